# Issue 18 (MoE) after session 7, on the one GPU lent; about 8 minutes. Sourced by bench/run-gpu.sh
# ($G, $N, $R, step). Run it as: GPU_RUN_DEADLINE=560 GPUCOMM_GIT_REVISION=<rev> bash bench/run-gpu.sh moe-s7
# 1. selftest with 2, 4 and 8 ranks sharing GPU 0 under CUDA MPS (GPUCOMM_SHARE_GPUS=1): the
#    registry's multi-process stage (8 ranks: MoE only), every MoE style including nvlink-normal,
#    the nccl style through virtual ranks, the send/receive split, routing options.
# 2. What selftest does not cover, sharing the GPU: nvlink-normal with a 4-row ring (wrap-around,
#    flow control), more channels than tokens, every timing option with 8 ranks.
# 3. One rank, no sharing: the nccl style on real NCCL; the layout kernel and the FP8 cast against a
#    device copy (measured, the only timings here that are results).
# No timing from a shared-GPU or virtual-rank run is a result. Logs under $R/moe7/.
S=$R/moe7; mkdir -p $S
export CUDA_MPS_PIPE_DIRECTORY=/tmp/gc-mps-pipe CUDA_MPS_LOG_DIRECTORY=/tmp/gc-mps-log
mkdir -p $CUDA_MPS_PIPE_DIRECTORY $CUDA_MPS_LOG_DIRECTORY
moe_run() {  # name, seconds, args...
  local name=$1 secs=$2; shift 2
  local t0=$(date +%s)
  timeout $secs $G moe "$@" -T 60 --results $S/rows.jsonl > $S/$name.log 2>&1
  local rc=$?
  local wrong=$(grep -oE "wrong elements: [0-9]+" $S/$name.log | tail -1)
  echo "  $name: rc=$rc ${wrong:-no summary} ($(( $(date +%s) - t0 )) s)"
  [ $rc -eq 0 ] || grep -hE "^gpucomm:|FAILED|error" $S/$name.log | head -3 | cut -c1-200
}

step "moe7: selftest sharing one GPU under MPS (2, 4 and 8 ranks)"
nvidia-cuda-mps-control -d; echo "mps control daemon rc=$?"
t0=$(date +%s)
GPUCOMM_SHARE_GPUS=1 timeout 330 $G selftest --mode single --nvshmem on -d float -o sum --buffers none -T 40 > $S/selftest.log 2> $S/selftest.err
echo "selftest rc=$? ($(( $(date +%s) - t0 )) s)"
grep -hE "^selftest|WRONG|FAIL" $S/selftest.log | cut -c1-220 | head -20
grep -E "NVSHMEM stage [0-9]+/" $S/selftest.err | tail -1 | cut -c1-200
grep -E "moe " $S/selftest.err | grep -oE "moe .*" | cut -c1-160 | sort | uniq | head -40

step "moe7: nvlink-normal edge cases and timing options, sharing the GPU"
GPUCOMM_SHARE_GPUS=1 moe_run normal-ring4-4 60 --np 4 --styles nvlink-normal --tokens 200 --hidden 1024 --topk 6 --experts 32 --dtype fp8 \
  --ring-tokens 4 --chunk-tokens 3 --channels 3 --masked 9 --skew 4 -n 5 -w 2
GPUCOMM_SHARE_GPUS=1 moe_run normal-tiny-2 60 --np 2 --styles nvlink-normal --tokens 2 --hidden 256 --topk 2 --experts 8 --channels 5 -n 3 -w 1
GPUCOMM_SHARE_GPUS=1 moe_run normal-routings-8 90 --np 8 --styles nvlink-normal --tokens 64 --hidden 512 --topk 4 --experts 64 \
  --groups 8 --group-topk 2 --routings 3 --zero-ranks 1 -n 5 -w 2
GPUCOMM_SHARE_GPUS=1 moe_run options-8 120 --np 8 --styles all --preset deepep-ll --tokens 16 --flush-l2 --per-rank --deepep-lines --pplx-lines -n 5 -w 2
grep -E "^# (dispatch/combine grid|nvlink-normal)|ranks: slowest|Dispatch bandwidth|^EP=" $S/options-8.log | head -8 | cut -c1-200
echo quit | nvidia-cuda-mps-control; sleep 1; cp -r $CUDA_MPS_LOG_DIRECTORY $S/mps-log 2>/dev/null

step "moe7: one rank, no sharing: nccl on real NCCL; layout kernel and FP8 cast (measured)"
moe_run nccl-1rank 90 --np 1 --styles nccl --preset deepep-ll,nccl-ep --tokens 64 -n 5 -w 2
moe_run nccl-1rank-routings 90 --np 1 --styles nccl --tokens 64 --hidden 1024 --topk 4 --experts 32 --routings 3 -n 5 -w 2
moe_run normal-1rank 90 --np 1 --styles nvlink-normal --preset deepep-normal --tokens 512 -n 10 -w 3
timeout 120 $G moe --kernels --preset deepep-ll,deepep-normal,pplx -n 50 -w 5 --cast-tokens 4096 --results $S/kernels.jsonl > $S/kernels.log 2>&1
echo "moe --kernels rc=$?"
grep -vE "^#   |^\[gpucomm\]" $S/kernels.log | grep -E "layout|fp8_cast|copy|FP8 cast|wrong elements" | cut -c1-150 | head -24
