# Session 6, issue 15 step 9: several ranks on one GPU, for correctness only (no timing here is a
# result). Starts the CUDA MPS control daemon for this command and stops it at the end; every
# gpucomm process gets GPUCOMM_SHARE_GPUS=1 (rank i on GPU i mod visible). Then the suite on this
# machine and kill -9 of one rank under MPS. Sourced by bench/run-gpu.sh.
S=$R/share; mkdir -p $S
export CUDA_MPS_PIPE_DIRECTORY=/tmp/gc-mps-pipe CUDA_MPS_LOG_DIRECTORY=/tmp/gc-mps-log
mkdir -p $CUDA_MPS_PIPE_DIRECTORY $CUDA_MPS_LOG_DIRECTORY
nvidia-cuda-mps-control -d; echo "mps control daemon rc=$?"
mps_stop() { echo quit | nvidia-cuda-mps-control; sleep 1; cp -r $CUDA_MPS_LOG_DIRECTORY $S/mps-log 2>/dev/null; }
GPUCOMM_SHARE_GPUS=1 timeout 330 $G selftest --mode single --nvshmem on -d float -o sum -T 40 > $S/selftest-shared.log 2>&1
echo "shared-GPU selftest rc=$?"; grep -hE "^selftest|WRONG|FAIL|WAIVED \(unavailable" $S/selftest-shared.log | cut -c1-220 | head -40
mps_stop
