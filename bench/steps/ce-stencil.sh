# Copy-engine all-to-all (nvshmem-ce, --copy-split 1/2/4) beside the fastest SM backends at
# 64M..1G per rank; NVSHMEM's own device all-to-all (nvshmem-lib); host put at 64 MiB with more
# puts per timed sample; the Jacobi kernel's compile-time shapes against the copy ceiling; the
# one-GPU-per-process Jacobi job. Sourced by bench/run-gpu.sh ($G, $N, $R, step()).
C=$R/ce; mkdir -p $C; A=$C/a2a.jsonl
ce() { local name=$1 t=$2; shift 2; timeout $t $G "$@" --results $A > $C/$name.log 2>&1; echo "[$name] rc=$?"; grep -E "^#  *size|^ +[0-9]|unavailable|wrong bytes|FAILED|^gpucomm:" $C/$name.log | cut -c1-240 | head -12; }
step "stencil shapes (one GPU, 16384², rows per block x rows unrolled)"
timeout 120 $G _stencil-tune --shapes 16x1,16x4,32x4,32x8,64x4,64x8,128x8 > $C/stencil-tune.log 2>&1; echo "tune rc=$?"; cat $C/stencil-tune.log | head -12
step "all-to-all: copy engines vs the SM backends, 64M..1G per rank"
ce ce1 150 alltoall --np $N --backends nvshmem-ce,nccl-device,nccl,nvshmem-host -b 64M -e 1G -f 4 -n 20 -w 5
ce ce2 90 alltoall --np $N --backends nvshmem-ce -b 64M -e 1G -f 4 -n 20 -w 5 --copy-split 2
ce ce4 90 alltoall --np $N --backends nvshmem-ce -b 64M -e 1G -f 4 -n 20 -w 5 --copy-split 4
ce ce-ev 90 alltoall --np $N --backends nvshmem-ce -b 256M -e 256M -n 20 -w 5 --timing events
ce lib 90 alltoall --np $N --backends nvshmem-lib,nvshmem-ce -b 16K -e 16M -f 16 -n 20 -w 5
step "host put at 64 MiB: 4, 16, 32 puts per timed sample"
for i in 4 16 32; do timeout 60 $G nvshmem put --np 2 --host -b 64M -e 256M -f 4 --inner $i --results $C/put.jsonl > $C/put-inner$i.log 2>&1; echo "[put inner $i] rc=$?"; grep -E "^ +[0-9]" $C/put-inner$i.log; done
step "jacobi one GPU per process (--gpus 1,2), small grid"
timeout 120 $G jacobi --variants nccl,nvshmem_opt --gpus 1,2 --nx 4096 --ny 4096 -n 200 --results $C/jacobi.jsonl > $C/jacobi.log 2>&1; echo "jacobi rc=$?"; grep -E "^  |^# (gpucomm|copy)|error|wrong" $C/jacobi.log | cut -c1-170 | head -12
