# TMA (bulk async copy) paths: NVSHMEM put one way and both ways, a ring sweep, and the
# nvshmem-tma all-to-all beside the NCCL device-API kernel and ncclAlltoAll, 64M..1G per rank.
# Sourced by bench/run-gpu.sh ($G, $N, $R, step()).
T=$R/tma; mkdir -p $T
tm() { local name=$1 t=$2; shift 2; timeout $t $G "$@" > $T/$name.log 2>&1; echo "[$name] rc=$?"; grep -E "^#  *size|^ +[0-9]|^# best|unavailable|wrong bytes|FAILED|^gpucomm:|failed" $T/$name.log | cut -c1-200 | head -14; }
step "TMA put: one way, both ways, host put beside it (64M..1G)"
tm put 90 nvshmem put --np 2 --scope tma -b 64M -e 1G -f 4 --results $T/p2p.jsonl
tm put-bidir 90 nvshmem put --np 2 --scope tma -b 64M -e 1G -f 4 --bidirectional --results $T/p2p.jsonl
tm put-host 60 nvshmem put --np 2 --host -b 64M -e 1G -f 4 --results $T/p2p.jsonl
tm put-sweep 150 nvshmem put --np 2 --scope tma -b 64M -e 256M -f 4 --blocks 1x,2x --tma-stage 16K,32K,48K --tma-stages 2,4 --results $T/p2p.jsonl
step "all-to-all: nvshmem-tma vs nccl-device vs nccl, 64M..1G per rank"
tm a2a 150 alltoall --np $N --backends nvshmem-tma,nccl-device,nccl,nvshmem-direct -b 64M -e 1G -f 4 -n 20 -w 5 --threads 32 --results $T/a2a.jsonl
for v in "--blocks 64" "--blocks 256" "--tma-stage 16K --tma-stages 8" "--tma-stage 48K --tma-stages 2"; do
  tm "a2a${v// /}" 90 alltoall --np $N --backends nvshmem-tma -b 256M -e 1G -f 4 -n 20 -w 5 --threads 32 $v --results $T/a2a.jsonl
done
