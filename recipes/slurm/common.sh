# shellcheck shell=bash
# Sourced by the batch scripts in this folder; see recipes/README.md.
#
#   GPUCOMM                    the gpucomm binary (default: gpucomm on PATH, or the one in the image)
#   GPUCOMM_IMAGE              a squash file or image for pyxis (srun --container-image); unset: no container
#   GPUCOMM_SRUN_MPI           srun's --mpi plugin (default pmix, as in the study; pmi2 and none work too)
#   RESULTS_DIR                where results go (default ./results/<job id>)
#   GPUCOMM_LAUNCH_CHECK_ONLY  1: run only `gpucomm launch-check` and stop (CI runs every script this way)

GPUCOMM=${GPUCOMM:-gpucomm}
RESULTS_DIR=${RESULTS_DIR:-$PWD/results/${SLURM_JOB_ID:-local}}
mkdir -p "$RESULTS_DIR"

SRUN_ARGS=(--mpi="${GPUCOMM_SRUN_MPI:-pmix}" --kill-on-bad-exit=1)
if [[ -n ${GPUCOMM_IMAGE:-} ]]; then
  SRUN_ARGS+=(--container-image="$GPUCOMM_IMAGE" --container-mounts="$RESULTS_DIR:$RESULTS_DIR")
fi

# Every script checks the launch first: ranks, hosts, rendezvous and GPU choice, no GPU work (exit 0 = good).
gpucomm_launch_check() {
  srun "${SRUN_ARGS[@]}" "$GPUCOMM" launch-check -T 120
}

# True when the caller asked for the launch check only.
check_only() {
  [[ ${GPUCOMM_LAUNCH_CHECK_ONLY:-0} == 1 ]]
}
