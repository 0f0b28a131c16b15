# Sourced by every GPU-machine script: the rules of the shared machine and the binary.
export NCCL_NVLS_ENABLE=0 NVSHMEM_DISABLE_NVLS=1 TORCH_SYMM_MEM_DISABLE_MULTICAST=1
export PYTHONUNBUFFERED=1
# Always unpack: a warm machine still holds the previous call's binary.
if [ -f .gpu/gpucomm.gz ]; then gzip -dc .gpu/gpucomm.gz > /tmp/gpucomm && chmod +x /tmp/gpucomm; fi
G=${G:-/tmp/gpucomm}
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
