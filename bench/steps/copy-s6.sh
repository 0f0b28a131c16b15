# Session 6, issue 19: copies and a suite that is useful on one GPU. Sourced by bench/run-gpu.sh
# (sees $G, $N, $R, step). On the one GPU lent: host<->device copies (CE and SM, pinned and
# pageable, 4K..1G) with the PCIe limit from NVML, the local copy ceiling, pointer-chase latency,
# PyTorch's copy_ beside them (ratios at >= 64 MiB), selftest in one process (the one-rank NCCL
# defect listed, exit 0), then the suite. Logs under $R/copy/; every command bounded by timeout.
# Expected: about 3-4 minutes on one H100/H200; the timeouts add up to 5 min 40 s.
C=$R/copy; mkdir -p $C
step "copy: host<->device CE and SM, pinned and pageable, 4K..1G"
timeout 75 $G copy host_to_device_memcpy_ce host_to_device_memcpy_sm device_to_host_memcpy_ce device_to_host_memcpy_sm \
  host_device_bidirectional_memcpy_ce host_device_bidirectional_memcpy_sm local \
  --host-memory pinned,pageable,numa-local,numa-remote -b 4K -e 1G -f 2 -n 20 -w 5 --results $C/copy.jsonl > $C/copy.log 2> $C/copy.err
echo "copy rc=$?"; grep -E "^#   GPU|waived" $C/copy.log | sort -u | head -6; tail -2 $C/copy.err
grep -E " (64M|1G) " $C/copy.log | grep -E "pinned|pageable|^   device_local" | cut -c1-175 | head -24
step "copy: latency (pointer chase, 256 MiB, 10000 hops)"
timeout 20 $G copy latency -n 20 --results $C/copy.jsonl > $C/latency.log 2>&1; echo "latency rc=$?"
grep -E "latency_sm " $C/latency.log | cut -c1-120
step "torch copy_ between pinned host memory and the GPU, same sizes and clock"
timeout 55 python3 bench/torch_copy.py --sizes 4096:$((1<<30)):2 --iters 20 --warmup 5 --out $C/torch.jsonl > $C/torch.log 2>&1; echo "torch rc=$?"
tail -2 $C/torch.log | grep -i error
timeout 20 python3 bench/torch_copy.py --compare $C/copy.jsonl $C/torch.jsonl --min-bytes 64M > $C/compare.txt; echo "compare rc=$? (0: CE >= 0.99x torch at >= 64 MiB)"
sed -n '/lowest ratio/,$p' $C/compare.txt
step "selftest in one process: the one-rank NCCL defect listed, exit 0"
timeout 80 $G selftest --mode single -T 30 > $C/selftest.log 2> $C/selftest.err; echo "selftest rc=$?"
grep -E "^selftest|known NCCL defect|FAIL" $C/selftest.log | cut -c1-220 | head -8
timeout 20 $G selftest --mode single -T 30 --strict --buffers none --collectives all_reduce -d float -o premulsum > $C/selftest-strict.log 2>&1
echo "selftest --strict (all_reduce float premulsum) rc=$? (3 expected with NCCL 2.28.x)"
step "suite -e 64M on $N GPU(s)"
timeout 150 $G suite -e 64M -n 10 --results $C/suite.jsonl --report-dir $C/report > $C/suite.log 2> $C/suite.err; echo "suite rc=$?"
grep -E "^gpucomm suite|^copies|^Jacobi|^waived|^step" $C/suite.log | cut -c1-160 | head -10
