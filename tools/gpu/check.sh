#!/usr/bin/env bash
# One-shot GPU check for a machine with an NVIDIA GPU: configures with CUDA for the GPU present,
# builds the reference solutions, runs every test (the GPU-labelled ones included) and the GPU
# benchmarks, and writes a text summary (summary.txt) and a JSON one (summary.json: test counts
# and failures, every benchmark's rows).
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

# summary.json: the GPU, the build, the test counts and failures of both CTest runs, and every
# benchmark's JSON, in one file (python3 is on every GPU image we know; without it the text
# summary and the per-benchmark JSON files above still stand).
if command -v python3 > /dev/null; then
  python3 - "$out" "$gpu" "$arch" "$rc" <<'EOF' && log "summary.json written"
import json, pathlib, re, sys
out, gpu, arch, build_rc = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
def ctest(name):
    text = (out / name).read_text(errors="replace") if (out / name).exists() else ""
    m = re.search(r"(\d+)% tests passed, (\d+) tests? failed out of (\d+)", text)
    failed = re.findall(r"^\s*\d+ - (\S+) \((Failed|Timeout|Subprocess aborted|Exception)", text, re.M)
    skipped = len(re.findall(r"\*\*\*Skipped", text))
    return {"total": int(m.group(3)) if m else None, "failed": int(m.group(2)) if m else None,
            "skipped": skipped, "failures": [f"{n} ({why})" for n, why in failed]}
benches = {}
for f in sorted(out.glob("*_bench.json")):
    try:
        benches[f.stem] = json.loads(f.read_text())
    except ValueError as e:
        benches[f.stem] = {"error": f"unreadable JSON: {e}"}
summary = {"gpu": gpu, "sm": arch, "build_rc": build_rc,
           "gpu_tests": ctest("gpu-tests.txt"), "other_tests": ctest("tests.txt"),
           "benchmarks": benches}
(out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
EOF
fi
log "done"
