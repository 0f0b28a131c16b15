# Issue 18 (MoE) after session 7, call 2 of 2 on the one GPU lent (about 4 minutes), after
# bench/steps/moe-s7.sh: what selftest does not cover. Sourced by bench/run-gpu.sh ($G, $N, $R, step):
#   GPU_RUN_DEADLINE=570 GPUCOMM_GIT_REVISION=<rev> bash bench/run-gpu.sh moe-s7-extra
# 1. Sharing GPU 0 under MPS (correctness only): nvlink-normal with a 4-row ring at 4 ranks, with
#    more channels than tokens, with group-limited routing and 3 routings at 8 ranks; every timing
#    option with 8 ranks and every style; the split and virtual ranks at 8.
# 2. One rank, no sharing: the nccl style on real NCCL (one and three routings), nvlink-normal at the
#    deepep-normal shape; the layout kernel and the FP8 cast against a device copy (measured, the
#    only timings here that are results).
# 3. bench/steps/moe-gpus.sh (the multi-GPU issue's command) with one GPU: every style with --np 1,
#    then bench/torch_moe.py with one process on the same routing.
S=$R/moe7x; mkdir -p $S
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
step "moe7x: nvlink-normal edge cases, timing options, split and virtual ranks (sharing the GPU)"
nvidia-cuda-mps-control -d; echo "mps control daemon rc=$?"

GPUCOMM_SHARE_GPUS=1 moe_run normal-ring4-4 60 --np 4 --styles nvlink-normal --tokens 200 --hidden 1024 --topk 6 --experts 32 --dtype fp8 \
  --ring-tokens 4 --chunk-tokens 3 --channels 3 --masked 9 --skew 4 -n 5 -w 2
GPUCOMM_SHARE_GPUS=1 moe_run normal-tiny-2 60 --np 2 --styles nvlink-normal --tokens 2 --hidden 256 --topk 2 --experts 8 --channels 5 -n 3 -w 1
GPUCOMM_SHARE_GPUS=1 moe_run normal-routings-8 90 --np 8 --styles nvlink-normal --tokens 64 --hidden 512 --topk 4 --experts 64 \
  --groups 8 --group-topk 2 --routings 3 --zero-ranks 1 -n 5 -w 2
GPUCOMM_SHARE_GPUS=1 moe_run options-8 120 --np 8 --styles nvshmem-put,nvlink-ll,nvlink-normal --preset deepep-ll --tokens 16 --flush-l2 --per-rank --deepep-lines --pplx-lines -n 5 -w 2
grep -E "^# (dispatch/combine grid|nvlink-normal)|ranks: slowest|Dispatch bandwidth|^EP=" $S/options-8.log | head -8 | cut -c1-200
GPUCOMM_SHARE_GPUS=1 moe_run split-8 90 --np 8 --styles nvshmem-put,nvlink-ll --preset deepep-ll --tokens 32 --split -n 5 -w 2
moe_run virtual-8 90 --virtual-ranks 8 --styles nccl --preset deepep-ll,nccl-ep --tokens 32 -n 3 -w 1
echo quit | nvidia-cuda-mps-control; sleep 1; cp -r $CUDA_MPS_LOG_DIRECTORY $S/mps-log 2>/dev/null

step "moe7x: one rank, no sharing: nccl on real NCCL; layout kernel and FP8 cast (measured)"
moe_run nccl-1rank 90 --np 1 --styles nccl --preset deepep-ll,nccl-ep --tokens 64 -n 5 -w 2
moe_run nccl-1rank-routings 90 --np 1 --styles nccl --tokens 64 --hidden 1024 --topk 4 --experts 32 --routings 3 -n 5 -w 2
moe_run normal-1rank 90 --np 1 --styles nvlink-normal --preset deepep-normal --tokens 512 -n 10 -w 3
timeout 120 $G moe --kernels --preset deepep-ll,deepep-normal,pplx -n 50 -w 5 --cast-tokens 4096 --results $S/kernels.jsonl > $S/kernels.log 2>&1
echo "moe --kernels rc=$?"
grep -vE "^#   |^\[gpucomm\]" $S/kernels.log | grep -E "layout|fp8_cast|copy|FP8 cast|wrong elements" | cut -c1-150 | head -24

step "moe7x: the multi-GPU command with one GPU (gpucomm --np 1 every style, then torch_moe.py with one process)"
MOE_COUNTS=1 MOE_PRESETS=deepep-ll source bench/steps/moe-gpus.sh
