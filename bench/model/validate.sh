#!/bin/sh
# Honest validation of `gpucomm model` on the reference study (AWS p5.48xlarge, EFA; data by
# chang-ning, CC BY 4.0, see Sources/Report/Example/SOURCE.md): fit on 16, 32 and 64 GPUs only,
# predict 128 and 256 GPUs, write the error per size. Run from anywhere after `swift build`.
set -eu
cd "$(dirname "$0")/../.."
gpucomm=${GPUCOMM:-.build/debug/gpucomm}
data=Sources/Report/Example
inputs="$data/nccl_alltoall.csv $data/nccl_all_reduce.csv $data/nvshmem_alltoall_host.csv $data/nvshmem_alltoall_device.csv"
# The model as designed (no congestion term): the headline numbers.
$gpucomm model validate $inputs --gpus-per-node 8 --max-fit-gpus 64 > bench/model/validation.md
# The same with the optional congestion term (NIC time per byte growing with log2 nodes).
$gpucomm model validate $inputs --gpus-per-node 8 --max-fit-gpus 64 --congestion > bench/model/validation-congestion.md
# The fitted parameters (16-64 GPUs), for reading.
$gpucomm model fit $inputs --gpus-per-node 8 --nic-gbps 50 --max-gpus 64 > bench/model/fit-16-64.txt
