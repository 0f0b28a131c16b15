# Session 6, issue 15 step 9: several ranks on one GPU, for correctness only (no timing here is a
# result). Starts the CUDA MPS control daemon for this command and stops it at the end; every
# gpucomm process gets GPUCOMM_SHARE_GPUS=1 (rank i on GPU i mod visible). The selftest's
# multi-process stage (built from the registry: NVSHMEM, the copy-engine all-to-alls, MoE, Jacobi's
# NVSHMEM variants; NCCL's waived) with 2 and 4 PEs, then MoE with 8 ranks, then MoE's one-rank
# measurements (layout kernel, FP8 cast against a device copy). Sourced by bench/run-gpu.sh.
S=$R/share; mkdir -p $S
export CUDA_MPS_PIPE_DIRECTORY=/tmp/gc-mps-pipe CUDA_MPS_LOG_DIRECTORY=/tmp/gc-mps-log
mkdir -p $CUDA_MPS_PIPE_DIRECTORY $CUDA_MPS_LOG_DIRECTORY
nvidia-cuda-mps-control -d; echo "mps control daemon rc=$?"
GPUCOMM_SHARE_GPUS=1 timeout 300 $G selftest --mode single --nvshmem on -d float -o sum --buffers none -T 40 > $S/selftest-shared.log 2> $S/selftest-shared.err
echo "shared-GPU selftest rc=$?"; grep -hE "^selftest|WRONG|FAIL|WAIVED \(unavailable" $S/selftest-shared.log | cut -c1-220 | head -40
grep -E "NVSHMEM stage [0-9]+/" $S/selftest-shared.err | tail -1 | cut -c1-200
GPUCOMM_SHARE_GPUS=1 timeout 60 $G moe --np 8 --styles nvshmem-put,nvlink-ll --tokens 64 --hidden 1024 --topk 4 --experts 32 --dtype bf16 -n 3 -w 1 -T 40 \
  --results $S/moe8.jsonl > $S/moe8.log 2>&1; echo "moe 8 ranks sharing the GPU rc=$?"; grep -E "wrong|^gpucomm:" $S/moe8.log | tail -3 | cut -c1-200
echo quit | nvidia-cuda-mps-control; sleep 1; cp -r $CUDA_MPS_LOG_DIRECTORY $S/mps-log 2>/dev/null
timeout 90 $G moe --kernels --preset deepep-ll,deepep-normal,pplx -n 50 -w 5 --cast-tokens 4096 --results $S/moe-kernels.jsonl > $S/moe-kernels.log 2>&1
echo "moe --kernels rc=$?"; grep -vE "^#   |^\[gpucomm\]" $S/moe-kernels.log | grep -E "layout|fp8_cast|copy|FP8 cast|wrong elements" | cut -c1-150 | head -16
