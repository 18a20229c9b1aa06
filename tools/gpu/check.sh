#!/usr/bin/env bash
# One-shot GPU check for a machine with an NVIDIA GPU: configures with CUDA for the GPU present,
# builds the reference solutions, runs every test (the GPU-labelled ones included) and the GPU
# benchmarks, and writes a text and a JSON summary.
#
#   tools/gpu/check.sh [OUT_DIR]          (default: gpu-results/; $OUT when set)
#
# Works on a normal machine with the dependencies installed (./mlsys setup), or on a bare one
# with only nvcc/cmake/gcc when tools/gpu/bundle_deps.sh has filled .deps/ beforehand.
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${1:-${OUT:-$PWD/gpu-results}}
mkdir -p "$out"
jobs=$(nproc)
log() { echo "== $* ==" | tee -a "$out/summary.txt"; }

nvidia-smi > "$out/nvidia-smi.txt" 2>&1 || { echo "no nvidia-smi: not a GPU machine"; exit 1; }
arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d '. ')
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
log "GPU: $gpu (sm_$arch), $(nproc) CPU cores"

extra=()
if [ -d .deps ]; then
  # Bare machine: build GoogleTest from the bundled source and use the bundled headers.
  if [ ! -f .deps/gtest/lib/cmake/GTest/GTestConfig.cmake ] && [ ! -f .deps/gtest/lib64/cmake/GTest/GTestConfig.cmake ]; then
    cmake -S .deps/src/googletest -B .deps/gtest-build -DCMAKE_INSTALL_PREFIX="$PWD/.deps/gtest" \
      -DBUILD_GMOCK=OFF -DCMAKE_BUILD_TYPE=Release > "$out/gtest-build.log" 2>&1 &&
      cmake --build .deps/gtest-build -j"$jobs" --target install >> "$out/gtest-build.log" 2>&1 ||
      { log "building GoogleTest failed (see gtest-build.log)"; exit 1; }
  fi
  extra+=(-DCMAKE_PREFIX_PATH="$PWD/.deps;$PWD/.deps/gtest" -DMLSYS_PYTHON=OFF -DMLSYS_MPI=OFF)
fi

log "configure + build (solutions, CUDA sm_$arch)"
start=$(date +%s)
cmake -S . -B build/gpu -DMLSYS_CUDA=ON -DMLSYS_SOLUTIONS=ON -DCMAKE_CUDA_ARCHITECTURES="$arch" \
  -DCMAKE_BUILD_TYPE=Release "${extra[@]}" > "$out/build.log" 2>&1 &&
  cmake --build build/gpu -j"$jobs" >> "$out/build.log" 2>&1
rc=$?
log "build rc=$rc in $(( $(date +%s) - start )) s"
[ $rc -eq 0 ] || { tail -40 "$out/build.log"; exit 1; }

log "GPU tests (ctest -L gpu)"
(cd build/gpu && ctest -L gpu --output-on-failure --timeout 300) > "$out/gpu-tests.txt" 2>&1
tail -5 "$out/gpu-tests.txt" | tee -a "$out/summary.txt"
log "all other tests (ctest -LE gpu)"
(cd build/gpu && ctest -LE gpu -j"$jobs" --output-on-failure --timeout 600) > "$out/tests.txt" 2>&1
tail -5 "$out/tests.txt" | tee -a "$out/summary.txt"

log "benchmarks"
for b in build/gpu/common/bench/common_bench build/gpu/pa*/bench/*_bench; do
  [ -x "$b" ] || continue
  name=$(basename "$b")
  "$b" --json "$out/$name.json" > "$out/$name.txt" 2>&1
  cat "$out/$name.txt" | tee -a "$out/summary.txt"
done
log "done"
