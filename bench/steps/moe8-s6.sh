# Session 6: after the residency fix (1d9f147), MoE with 2, 4 and 8 ranks sharing one GPU under
# MPS (correctness only), BF16 and FP8 with masked selections, skew and a zero-token rank, the
# presets at 32 tokens; and what the device reports under an MPS share. Sourced by bench/run-gpu.sh.
S=$R/moe8; mkdir -p $S
export CUDA_MPS_PIPE_DIRECTORY=/tmp/gc-mps-pipe CUDA_MPS_LOG_DIRECTORY=/tmp/gc-mps-log
mkdir -p $CUDA_MPS_PIPE_DIRECTORY $CUDA_MPS_LOG_DIRECTORY
nvidia-cuda-mps-control -d; echo "mps control daemon rc=$?"
CUDA_MPS_ACTIVE_THREAD_PERCENTAGE=12 $G env > $S/env-mps12.txt 2>&1; grep -E " SMs" $S/env-mps12.txt | head -2
NV="--styles nvshmem-put,nvlink-ll"
for n in 2 4 8; do
  GPUCOMM_SHARE_GPUS=1 timeout 60 $G moe --np $n $NV --tokens 64 --hidden 1024 --topk 4 --experts 32 --dtype bf16 -n 3 -w 1 -T 40 --no-results > $S/bf16-$n.log 2>&1
  echo "bf16 $n ranks rc=$?: $(grep -cE '^ +(nvshmem-put|nvlink-ll) +(dispatch|combine)' $S/bf16-$n.log) rows; $(grep -E 'wrong|^gpucomm:' $S/bf16-$n.log | tail -1 | cut -c1-120)"
  GPUCOMM_SHARE_GPUS=1 timeout 60 $G moe --np $n $NV --tokens 48 --hidden 512 --topk 6 --experts 64 --dtype fp8 --masked 7 --skew 8 --zero-ranks 1 -n 3 -w 1 -T 40 --no-results > $S/fp8-$n.log 2>&1
  echo "fp8 masked skew zero-rank $n ranks rc=$?: $(grep -E 'wrong|^gpucomm:' $S/fp8-$n.log | tail -1 | cut -c1-120)"
done
GPUCOMM_SHARE_GPUS=1 timeout 90 $G moe --np 8 $NV --preset deepep-ll,deepep-normal,nccl-ep,pplx --tokens 32 -n 3 -w 1 -T 40 --no-results > $S/presets-8.log 2>&1
echo "presets 8 ranks rc=$?: $(grep -E 'wrong|^gpucomm:' $S/presets-8.log | tail -1 | cut -c1-120)"
echo quit | nvidia-cuda-mps-control; sleep 1
