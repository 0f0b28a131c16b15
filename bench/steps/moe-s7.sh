# Issue 18 (MoE) after session 7, call 1 of 2 on the one GPU lent (about 6 minutes): selftest with
# 2, 4 and 8 ranks sharing GPU 0 under CUDA MPS (GPUCOMM_SHARE_GPUS=1): the registry's
# multi-process stage (8 ranks: MoE only): every MoE style including nvlink-normal (a wrapping
# 4-row ring, more channels than tokens), the nccl style as virtual ranks, the send/receive split,
# group-limited routing with new routing every iteration. Call 2 is bench/steps/moe-s7-extra.sh.
# Sourced by bench/run-gpu.sh ($G, $N, $R, step):
#   GPU_RUN_DEADLINE=570 GPUCOMM_GIT_REVISION=<rev> bash bench/run-gpu.sh moe-s7
# No timing from a shared-GPU or virtual-rank run is a result. Logs under $R/moe7/.
S=$R/moe7; mkdir -p $S
export CUDA_MPS_PIPE_DIRECTORY=/tmp/gc-mps-pipe CUDA_MPS_LOG_DIRECTORY=/tmp/gc-mps-log
mkdir -p $CUDA_MPS_PIPE_DIRECTORY $CUDA_MPS_LOG_DIRECTORY

step "moe7: selftest sharing one GPU under MPS (2, 4 and 8 ranks)"
nvidia-cuda-mps-control -d; echo "mps control daemon rc=$?"
t0=$(date +%s)
GPUCOMM_SHARE_GPUS=1 timeout 540 $G selftest --mode single --nvshmem on -d float -o sum --buffers none -T 40 > $S/selftest.log 2> $S/selftest.err
echo "selftest rc=$? ($(( $(date +%s) - t0 )) s)"
grep -hE "^selftest|WRONG|FAIL" $S/selftest.log | cut -c1-220 | head -20
grep -E "NVSHMEM stage [0-9]+/" $S/selftest.err | tail -1 | cut -c1-200
grep -E "moe " $S/selftest.err | grep -oE "moe .*" | cut -c1-160 | sort | uniq | head -40
echo quit | nvidia-cuda-mps-control; sleep 1; cp -r $CUDA_MPS_LOG_DIRECTORY $S/mps-log 2>/dev/null
