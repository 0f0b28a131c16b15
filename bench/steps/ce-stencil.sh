# Copy-engine all-to-all (cuda-ce over CUDA IPC and nvshmem-ce into NVSHMEM's heap, --copy-split
# 1/2/4) beside the fastest SM backends at 64M..1G per rank; NVSHMEM's own device all-to-all
# (nvshmem-lib); host put at 64 MiB with more puts per timed sample; the Jacobi kernel's
# compile-time shapes against the copy ceiling. Sourced by bench/run-gpu.sh ($G, $N, $R, step()).
C=$R/ce; mkdir -p $C; A=$C/a2a.jsonl
ce() { local name=$1 t=$2; shift 2; timeout $t $G "$@" --results $A > $C/$name.log 2>&1; echo "[$name] rc=$?"; grep -E "^#  *size|^ +[0-9]|unavailable|wrong bytes|FAILED|^gpucomm:|failed" $C/$name.log | cut -c1-240 | head -12; }
step "stencil shapes (one GPU, 16384²: [v]rows x unroll [x threads]; v = 4 columns per thread)"
timeout 120 $G _stencil-tune --shapes ${STENCIL_SHAPES:-16x1,16x4,8x4,8x8,16x8,16x16,4x4,16x4x256,8x8x256,v16x1,v8x1,v32x1,v4x1,v16x1x256,v8x1x64} > $C/stencil-tune.log 2>&1; echo "tune rc=$?"; cat $C/stencil-tune.log | head -20
step "all-to-all: copy engines vs the SM backends, 64M..1G per rank"
ce ce1 150 alltoall --np $N --backends cuda-ce,nvshmem-ce,nccl-device,nccl -b 64M -e 1G -f 4 -n 20 -w 5
for s in 2 4 8; do ce ce-split$s 90 alltoall --np $N --backends cuda-ce -b 64M -e 1G -f 4 -n 20 -w 5 --copy-split $s; done
ce ce-ev 90 alltoall --np $N --backends cuda-ce,nccl-device -b 256M -e 256M -n 20 -w 5 --timing events
ce small 120 alltoall --np $N --backends nvshmem-lib,cuda-ce,nvshmem-ce -b 16K -e 16M -f 16 -n 20 -w 5
