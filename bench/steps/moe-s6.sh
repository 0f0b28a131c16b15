# Issue 18 (MoE dispatch and combine), on the one GPU lent. Sourced by bench/run-gpu.sh ($G, $N, $R).
# 1. Correctness with 2, 4 and 8 ranks sharing GPU 0 under CUDA MPS (GPUCOMM_SHARE_GPUS=1): the
#    NVSHMEM styles (put-with-signal, NVLink stores) in BF16 and FP8, skew, masked selections, a
#    zero-token rank, every preset with its tokens reduced; NCCL refuses shared GPUs, so the NCCL
#    style runs with one rank. No timing from these runs is a result.
# 2. One rank, no sharing: the layout kernel and the FP8 cast against a device copy (measured).
# 3. The multi-GPU command (bench/steps/moe-gpus.sh) with one GPU: gpucomm moe --np 1 and
#    bench/torch_moe.py with one process, the DeepEP LL shape.
# Logs under $R/moe/; every command bounded by timeout; expected 3 to 4 minutes (9 shared-GPU commands of
# 10-20 s each, two one-rank ones, the kernels, the PyTorch pass).
S=$R/moe; mkdir -p $S
export CUDA_MPS_PIPE_DIRECTORY=/tmp/gc-mps-pipe CUDA_MPS_LOG_DIRECTORY=/tmp/gc-mps-log
mkdir -p $CUDA_MPS_PIPE_DIRECTORY $CUDA_MPS_LOG_DIRECTORY
step "moe: correctness, 2/4/8 ranks sharing one GPU under MPS"
nvidia-cuda-mps-control -d; echo "mps control daemon rc=$?"
moe_run() {  # name, seconds, args...
  local name=$1 secs=$2; shift 2
  local t0=$(date +%s)
  timeout $secs $G moe "$@" -n 3 -w 1 -T 60 --results $S/shared.jsonl > $S/$name.log 2>&1
  local rc=$?
  local wrong=$(grep -oE "wrong elements: [0-9]+" $S/$name.log | tail -1)
  echo "  $name: rc=$rc ${wrong:-no summary} ($(( $(date +%s) - t0 )) s)"
  [ $rc -eq 0 ] || grep -hE "^gpucomm:|FAILED|error" $S/$name.log | head -3 | cut -c1-200
}
NV=--styles=nvshmem-put,nvlink-ll
for n in 2 4 8; do
  GPUCOMM_SHARE_GPUS=1 moe_run bf16-$n 90 --np $n $NV --tokens 64 --hidden 1024 --topk 4 --experts 32 --dtype bf16
  GPUCOMM_SHARE_GPUS=1 moe_run fp8-skew-masked-zero-$n 90 --np $n $NV --tokens 48 --hidden 512 --topk 6 --experts 64 --dtype fp8 \
    --masked 7 --skew 8 --zero-ranks 1
  GPUCOMM_SHARE_GPUS=1 moe_run presets-$n 120 --np $n $NV --preset deepep-ll,deepep-normal,nccl-ep,pplx --tokens 32
done
echo quit | nvidia-cuda-mps-control; sleep 1; cp -r $CUDA_MPS_LOG_DIRECTORY $S/mps-log 2>/dev/null
moe_run nccl-1rank 90 --np 1 --styles nccl --preset deepep-ll,nccl-ep --tokens 64
moe_run all-styles-1rank-fp8-masked 90 --np 1 --styles all --tokens 96 --hidden 2048 --topk 6 --experts 64 --dtype fp8 --masked 5 --skew 4
grep -hE "^ +(nvshmem-put|nvlink-ll) +(dispatch|combine)" $S/bf16-8.log | head -4 | cut -c1-150

step "moe: layout kernel and FP8 cast vs device copy, one rank (measured)"
timeout 120 $G moe --kernels --preset deepep-ll,deepep-normal,pplx -n 50 -w 5 --cast-tokens 4096 --results $S/kernels.jsonl > $S/kernels.log 2>&1
echo "moe --kernels rc=$?"
grep -vE "^#   |^\[gpucomm\]" $S/kernels.log | grep -E "layout|fp8_cast|copy|FP8 cast|wrong elements" | cut -c1-150 | head -24

step "moe: the multi-GPU command with one GPU (gpucomm --np 1 and torch_moe.py with one process)"
MOE_COUNTS=1 MOE_PRESETS=deepep-ll source bench/steps/moe-gpus.sh
