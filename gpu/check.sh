#!/usr/bin/env bash
# The GPU check, for a machine with an NVIDIA GPU and no .NET SDK. Build here first (on a dev machine):
#   dotnet publish Samples/GpuCheck -c Release -o gpu/bin
# then on the GPU machine, from the repository root:  bash gpu/check.sh OUT
# Writes OUT/gpu-results.md (commit it as docs/gpu-results.md) and OUT/log.txt.
set -uo pipefail
out=${1:-gpu-out}
mkdir -p "$out"
{
  date -u
  nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv 2>&1 || true
  ldd --version 2>&1 | head -1
  gpu/bin/GpuCheck "$out"; echo "GpuCheck exit $?"
  # The machine's own ptxas on every module, for its own architecture.
  if command -v ptxas >/dev/null 2>&1; then
    arch=sm_$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d .)
    for f in "$out"/ptx/*.ptx; do
      ptxas -arch="$arch" -v --warning-as-error "$f" -o /dev/null > "$f.ptxas.txt" 2>&1 && echo "ptxas $arch $(basename "$f"): ok" || { echo "ptxas $arch $(basename "$f"): FAILED"; cat "$f.ptxas.txt"; }
    done
  fi
} 2>&1 | tee "$out/log.txt"
