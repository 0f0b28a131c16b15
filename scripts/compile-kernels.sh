#!/usr/bin/env bash
# Compiles every shipped CUDA kernel for sm_90 on a machine with no GPU: NVRTC, nvJitLink and the
# NCCL/NVSHMEM headers and device library come from PyPI into a venv (the versions of the GPU
# machine's image). Catches kernel compile errors before any GPU time is spent.
#   usage: scripts/compile-kernels.sh [--only NAME]      (venv: $GPUCOMM_KERNEL_VENV, default /opt/cudavenv)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${GPUCOMM_KERNEL_VENV:-/opt/cudavenv}
if [ ! -x "$VENV/bin/python3" ] || ! "$VENV/bin/python3" -c 'import nvidia.nccl, nvidia.nvshmem' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "nvidia-cuda-nvrtc==13.0.88" "nvidia-nvjitlink==13.0.88" "nvidia-cuda-runtime==13.0.96" \
    "nvidia-cuda-cccl==13.0.85" "nvidia-nccl-cu13==2.28.9" "nvidia-nvshmem-cu13==3.4.5"
fi
# The kernels are embedded in the binary: build first (a no-op when up to date), or a stale binary
# would compile the sources it was built with. GPUCOMM_BIN names a binary to use as it is.
if [ -n "${GPUCOMM_BIN:-}" ]; then BIN=$GPUCOMM_BIN; else swift build; BIN=.build/debug/gpucomm; fi
PATH="$VENV/bin:$PATH" GPUCOMM_CACHE_DIR="" "$BIN" _compile-kernels --arch sm_90 "$@"
