# Session 5, final call: the host put through NVSHMEM's call against the bare copy
# (--host-copy cuda: cuMemcpyDtoDAsync on nvshmem_ptr's address), 64M..1G, twice each; then
# cuda-ce-1p with the new default (--copy-sync flags) repeated at 256M and 1G.
# Sourced by bench/run-gpu.sh ($G, $N, $R, step()).
P=$R/put; mkdir -p $P
step "host put: NVSHMEM's on-stream call vs cuMemcpyDtoDAsync on the peer's heap address, 64M..1G"
for rep in 1 2; do for h in nvshmem cuda; do
  timeout 60 $G nvshmem put --np 2 --host --host-copy $h -b 64M -e 1G -f 4 --results $P/put.jsonl > $P/host-$h-$rep.log 2>&1
  echo "put host-copy $h rep $rep rc=$?: $(grep -E '^ +[0-9]' $P/host-$h-$rep.log | awk '{printf "%s=%s(%s) ", $1, $(NF-1), $NF}')"
done; done
timeout 60 $G nvshmem get --np 2 --host --host-copy cuda -b 64M -e 1G -f 4 --results $P/put.jsonl > $P/get-cuda.log 2>&1
echo "get host-copy cuda rc=$?: $(grep -E '^ +[0-9]' $P/get-cuda.log | awk '{printf "%s=%s(%s) ", $1, $(NF-1), $NF}')"
C=$R/ce1p; mkdir -p $C
step "cuda-ce-1p defaults (flags, pull, parallel) at 256M and 1G, -n 50, three times"
for rep in 1 2 3; do
  timeout 90 $G alltoall --np $N --backends cuda-ce-1p -b 256M -e 1G -f 4 -n 50 -w 5 --results $C/rows.jsonl > $C/rep$rep.log 2>&1
  echo "[rep$rep] rc=$?"; grep -E "^ +[0-9]|wrong bytes|^gpucomm:" $C/rep$rep.log | cut -c1-120
done
