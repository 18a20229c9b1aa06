#!/usr/bin/env bash
# One-shot GPU check of the whole course on a machine with an NVIDIA GPU, sized to finish in one
# run of well under 10 minutes on a 16-core machine (CHECK_BUDGET_S, default 540 s: a step that
# would start after it is recorded "not run: out of time", never silently dropped):
#
#   1. build     configure with CUDA for the GPU present (its compute capability), build the
#                reference solutions, every test (public and hidden) and benchmark, and the grader
#   2. tests     every GPU test, public and hidden (ctest -L gpu), and every other test
#                (ctest -LE gpu; the grader's end-to-end suites excepted: step 4 grades for real)
#      sanitize  compute-sanitizer memcheck, racecheck, synccheck, initcheck on the public GPU
#                test executables, small shapes only (SANITIZE_FILTER below), all four tools
#      warm-up   the grader on the reference solutions without benchmarks: builds its cache
#                (these three run at the same time: none of them measures time)
#   3. bench     pa2_gpu_bench and common_bench, alone on the machine, JSON kept; then
#                pa3_bench (threads backend, p = 2 and 4, a core per rank: the all-reduce
#                bandwidth against memcpy that a 2-core machine cannot measure; issue 10)
#   4. grade     the grader on the reference solutions twice (as `./mlsys grade pa2 --solution`,
#                but calling mlsys_grade directly: ./mlsys would try to install packages), every
#                JSON kept; the second run grades the GPU items only (--only gpu: the CPU tiers
#                are checked on CPU machines), to see the GPU tiers twice
#      steps     for each SGEMM step k = 3.2 ... 3.6, a submission of Task k-1's reference code
#                as Task k (tools/gpu/sgemm_step_submissions.py), graded on Task k alone
#   5. bundle    at most 8 files in OUT_DIR: summary.txt, summary.json, nvidia-smi.txt,
#                logs.tar.gz (build and test logs), sanitizer.tar.gz, bench.tar.gz,
#                grader.tar.gz (every grade.json / results.json), commands.txt
#
#   tools/gpu/check.sh [OUT_DIR]      (default: $OUT, else gpu-results/)
#   tools/gpu/check.sh --plan         print every step's command and run nothing
#   CHECK_STEPS="grade1 steps" tools/gpu/check.sh   only these steps (names as in the plan;
#                                     the build step always runs: it is incremental)
#
# Without a GPU it prints the plan, says that nothing was run, and exits 1 within seconds.
# Exit status otherwise: 1 when the build failed (the bundle is written all the same), else 0;
# every step's status, time and limit are in summary.json ("steps") and summary.txt.
# Works on a normal machine with the dependencies installed (./mlsys setup), or on a bare one
# with only nvcc/cmake/gcc when tools/gpu/bundle_deps.sh has filled .deps/ beforehand.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
PLAN=""
if [ "${1:-}" = "--plan" ]; then PLAN=1; shift; fi
out=${1:-${OUT:-$ROOT/gpu-results}}
BUDGET=${CHECK_BUDGET_S:-540}
START=$(date +%s)
DEADLINE=$((START + BUDGET))
RESERVE=20   # seconds kept for the summary and the bundle
JOBS=$(nproc)
W=$ROOT/build/gpu-check        # scratch: logs and JSON before they are bundled
B=$ROOT/build/gpu              # the CUDA build of the solutions
G=$ROOT/build/gpu-grader       # the standalone grader
GRADE="$G/mlsys_grade"
# Small shapes of every public GPU test executable: what the sanitizers run (they slow kernels
# down 10-100x). The large-shape cases (TileMultiples, Large*, Long*, Many*, TransformerWidths)
# are left out; hidden tests are not run under the sanitizers.
SANITIZE_FILTER=${SANITIZE_FILTER:-'GpuEntry_*:*Tiny*:*Odd*:*Small*:*NonSquare:*KeepsTiles*:*KeepsAccumulators*:*AllResiduesMod4:*AroundWarp*:*OnesAreExact:*EqualValues*:*MinusInfinity*:*SingleKey:*ShortSequences:*TileBoundaries:*LargeMeanNeedsTwoPasses'}
SANITIZE_TOOLS=${SANITIZE_TOOLS:-"memcheck racecheck synccheck initcheck"}

say() { echo "== $* ==" | tee -a "$W/summary.txt"; }
par() { if [ -n "$PLAN" ]; then "$@"; else "$@" & fi; }  # in the background, except in the plan
selected() { [ -z "${CHECK_STEPS:-}" ] || [[ " $CHECK_STEPS " == *" $1 "* ]]; }

# step NAME CAP_S LOG -- COMMAND...: runs COMMAND with a time limit of min(CAP_S, what the budget
# has left), its output in logs/LOG; one line per step in steps.tsv. With --plan: prints only.
step() {
  local name=$1 cap=$2 logf=$3
  shift 4
  if [ -n "$PLAN" ]; then
    printf '[%-9s <= %4ss] $ %s\n' "$name" "$cap" "$*"
    # A step that calls one of the functions below: show the commands it runs.
    if [ "$1" = bash ] && [ "$2" = -c ] && declare -F "${3%% *}" > /dev/null; then eval "$3"; fi
    return 0
  fi
  echo "[$name] \$ $*" >> "$W/commands.txt"
  if ! selected "$name"; then
    printf '%s\tnot selected\t0\t0\t%s\n' "$name" "$logf" >> "$W/steps.tsv"
    return 0
  fi
  local left=$((DEADLINE - $(date +%s) - RESERVE))
  if [ "$left" -lt 15 ]; then
    printf '%s\tnot run: out of time\t0\t0\t%s\n' "$name" "$logf" >> "$W/steps.tsv"
    say "$name: not run (out of time; rerun with CHECK_STEPS=\"$name\")"
    return 0
  fi
  local limit=$((cap < left ? cap : left)) s rc
  s=$(date +%s)
  say "$name: $* (limit ${limit} s)"
  timeout -k 10 "$limit" "$@" > "$W/logs/$logf" 2>&1
  rc=$?
  [ $rc -eq 124 ] && rc="timed out after ${limit} s"
  printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$rc" "$(( $(date +%s) - s ))" "$limit" "$logf" >> "$W/steps.tsv"
  say "$name: rc=$rc in $(( $(date +%s) - s )) s"
  return 0
}

# compute-sanitizer over the public GPU test executables, 4 at a time; one log per tool and
# executable, and sanitizer.tsv with each one's exit status (0 clean, 99 errors found).
sanitize_all() {
  if [ -n "$PLAN" ]; then
    echo "      \$ compute-sanitizer --tool TOOL --error-exitcode 99 EXE --gtest_filter='$SANITIZE_FILTER'"
    echo "        for TOOL in $SANITIZE_TOOLS, EXE in $B/pa2_kernels/tests/gpu/{pa2_task*_tests,pa2_gpu_entry_tests}, 4 at a time"
    return 0
  fi
  if ! command -v compute-sanitizer > /dev/null; then
    echo "compute-sanitizer not found (CUDA toolkit's bin/ or compute-sanitizer/): no sanitizer run"
    return 1
  fi
  local exes=("$B"/pa2_kernels/tests/gpu/pa2_task*_tests "$B"/pa2_kernels/tests/gpu/pa2_gpu_entry_tests)
  mkdir -p "$W/sanitizer"
  for tool in $SANITIZE_TOOLS; do
    for exe in "${exes[@]}"; do
      [ -x "$exe" ] && printf '%s\t%s\n' "$tool" "$exe"
    done
  done | xargs -P 4 -L 1 bash -c '
    log="$W/sanitizer/$0-$(basename "$1").txt"
    compute-sanitizer --tool "$0" --error-exitcode 99 "$1" --gtest_filter="$SANITIZE_FILTER" > "$log" 2>&1
    printf "%s\t%s\t%s\n" "$0" "$(basename "$1")" "$?" >> "$W/sanitizer/sanitizer.tsv"'
  ! grep -qv $'\t0$' "$W/sanitizer/sanitizer.tsv"
}
export -f sanitize_all
export W B SANITIZE_FILTER SANITIZE_TOOLS

# Runs a command, or with --plan prints it.
run_or_print() { if [ -n "$PLAN" ]; then echo "      \$ $*"; else "$@"; fi; }
export -f run_or_print

grade_run() {  # NAME EXTRA_ARGS...: the grader on the reference solutions, every output kept
  local name=$1
  shift
  run_or_print "$GRADE" grade --tree "$ROOT" --rubric autograder/rubrics/pa2.json --solution --jobs "$JOBS" \
    --work "$ROOT/build/gpu-grader-work" --format gradescope --out "$W/grader/$name-results.json" \
    --json "$W/grader/$name-grade.json" --markdown "$W/grader/$name-summary.md" "$@"
}
export -f grade_run
export GRADE ROOT JOBS

grade_steps() {  # every SGEMM step submission, graded on its own task
  run_or_print python3 tools/gpu/sgemm_step_submissions.py "$W/steps" || return 1
  local rc=0 k
  for k in 3.2 3.3 3.4 3.5 3.6; do
    run_or_print "$GRADE" grade --tree "$ROOT" --rubric "$W/steps/rubric-$k.json" --submission "$W/steps/step$k" \
      --jobs "$JOBS" --work "$ROOT/build/gpu-grader-work" --format gradescope \
      --out "$W/grader/step$k-results.json" --json "$W/grader/step$k-grade.json" || rc=1
  done
  return $rc
}
export -f grade_steps

mkdir -p "$out"
if [ -z "$PLAN" ]; then
  rm -rf "$W" && mkdir -p "$W/logs" "$W/grader" "$W/bench"
  : > "$W/summary.txt"
  : > "$W/steps.tsv"
  : > "$W/commands.txt"
  if ! nvidia-smi > "$W/nvidia-smi.txt" 2>&1 || ! grep -q "GPU " <(nvidia-smi -L 2>/dev/null); then
    echo "tools/gpu/check.sh: no NVIDIA GPU here (nvidia-smi finds none): nothing was run."
    echo "On a GPU machine it runs these steps (tools/gpu/check.sh --plan prints them):"
    PLAN=1
    NO_GPU=1
  fi
fi

arch=""
gpu=""
if [ -z "$PLAN" ]; then
  arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d '. ')
  gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
  say "GPU: $gpu (sm_$arch), $JOBS CPU cores, budget $BUDGET s"
  command -v nvcc > /dev/null || export PATH="$PATH:/usr/local/cuda/bin"
  export MLSYS_CUDA_ARCHITECTURES=$arch  # the grader's builds: this GPU only
  command -v compute-sanitizer > /dev/null || export PATH="$PATH:/usr/local/cuda/bin:/usr/local/cuda/compute-sanitizer"
fi

extra=()
[ -n "$PLAN" ] && [ ! -d .deps ] && echo "(with .deps/ from tools/gpu/bundle_deps.sh: first a GoogleTest build, and -DMLSYS_PYTHON=OFF -DMLSYS_MPI=OFF)"
if [ -d .deps ]; then
  # Bare machine: GoogleTest from the bundled source, the bundled headers, no Python or MPI.
  # The grader's own configure runs find CMAKE_PREFIX_PATH from the environment.
  export CMAKE_PREFIX_PATH="$ROOT/.deps:$ROOT/.deps/gtest"
  extra+=(-DMLSYS_PYTHON=OFF -DMLSYS_MPI=OFF)
  if [ -z "$PLAN" ] && [ ! -f .deps/gtest/lib/cmake/GTest/GTestConfig.cmake ] &&
    [ ! -f .deps/gtest/lib64/cmake/GTest/GTestConfig.cmake ]; then
    step gtest 120 gtest-build.log -- bash -c "cmake -S .deps/src/googletest -B .deps/gtest-build \
      -DCMAKE_INSTALL_PREFIX=$ROOT/.deps/gtest -DBUILD_GMOCK=OFF -DCMAKE_BUILD_TYPE=Release &&
      cmake --build .deps/gtest-build -j$JOBS --target install"
  fi
fi

# 1. Build (always: incremental on a warm machine).
CHECK_STEPS_SAVED=${CHECK_STEPS:-}
[ -n "${CHECK_STEPS:-}" ] && CHECK_STEPS="$CHECK_STEPS build"
step build 300 build.log -- bash -c "cmake -S . -B '$B' -DMLSYS_CUDA=ON -DMLSYS_SOLUTIONS=ON \
  -DCMAKE_CUDA_ARCHITECTURES=${arch:-<sm>} -DCMAKE_BUILD_TYPE=Release -DMLSYS_GRADER_SLOW_TESTS=OFF ${extra[*]} &&
  cmake --build '$B' -j$JOBS && cmake -S autograder -B '$G' -DCMAKE_BUILD_TYPE=Release && cmake --build '$G' -j$JOBS"
CHECK_STEPS=$CHECK_STEPS_SAVED
if [ -z "$PLAN" ] && ! grep -q $'^build\t0\t' "$W/steps.tsv"; then
  [ -f "$W/logs/build.log" ] && tail -40 "$W/logs/build.log"
  say "the build did not succeed: nothing else is run"
  SKIP_ALL=1
fi

# 2. Correctness, all at once: GPU tests, the other tests, the sanitizers, the grader's warm-up.
if [ -z "${SKIP_ALL:-}" ]; then
  par step gpu-tests 150 gpu-tests.txt -- bash -c "cd '$B' && ctest -L gpu -j8 --output-on-failure --timeout 120"
  par step tests 200 tests.txt -- bash -c "cd '$B' && ctest -LE gpu -E '^grader[.](fake|hostile_leaks|pa1|pa2_policy|merge)$' \
    -j$((JOBS / 2)) --output-on-failure --timeout 180"
  par step sanitize 200 sanitize.txt -- bash -c sanitize_all
  par step warm-up 240 grade-warmup.txt -- bash -c "grade_run warmup --skip-performance"
  wait

  # 3-4. Timing: one thing at a time, most wanted first.
  step grade1 240 grade1.txt -- bash -c "grade_run run1"
  step steps 200 steps.txt -- bash -c grade_steps
  step bench 120 bench.txt -- bash -c "'$B/pa2_kernels/bench/pa2_gpu_bench' --json '$W/bench/pa2_gpu_bench.json' &&
    '$B/common/bench/common_bench' --json '$W/bench/common_bench.json'"
  step pa3-bench 60 pa3-bench.txt -- bash -c "'$B/pa3_parallelism/pa3_bench' --json '$W/bench/pa3_bench.json'"
  step grade2 150 grade2.txt -- bash -c "grade_run run2 --only gpu"
fi

if [ -n "$PLAN" ]; then
  echo "then: summary.txt, summary.json and the bundles in OUT_DIR (at most 8 files)"
  [ -n "${NO_GPU:-}" ] && exit 1
  exit 0
fi

# 5. Summary and bundle.
python3 - "$W" "$gpu" "$arch" "$BUDGET" "$(( $(date +%s) - START ))" <<'EOF' && say "summary.json written"
import json, pathlib, re, sys
w, gpu, arch, budget, seconds = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
def ctest(name):
    text = (w / "logs" / name).read_text(errors="replace") if (w / "logs" / name).exists() else ""
    m = re.search(r"(\d+)% tests passed, (\d+) tests? failed out of (\d+)", text)
    failed = re.findall(r"^\s*\d+ - (\S+) \((Failed|Timeout|Subprocess aborted|Exception|SEGFAULT|Not Run)", text, re.M)
    return {"total": int(m.group(3)) if m else None, "failed": int(m.group(2)) if m else None,
            "skipped": len(re.findall(r"\*\*\*Skipped", text)), "failures": [f"{n} ({why})" for n, why in failed]}
def load(p):
    try:
        return json.loads(p.read_text())
    except (OSError, ValueError) as e:
        return {"error": str(e)}
steps = [dict(zip(["step", "rc", "seconds", "limit_s", "log"], l.split("\t")))
         for l in (w / "steps.tsv").read_text().splitlines() if l]
gradings = {}
for f in sorted((w / "grader").glob("*-grade.json")):
    g = load(f)
    gradings[f.name[:-len("-grade.json")]] = {
        "score": g.get("score"), "max_score": g.get("max_score"), "internal_error": g.get("internal_error"),
        "gpu": g.get("gpu"), "failed": [c["task"] + " " + c["name"] + ": " + c["reason"] for c in g.get("cases", [])
                                        if c.get("status") == "failed"],
        "performance": {p["id"]: {"ratio": p.get("ratio"), "points": p.get("points"), "max": p.get("max_points"),
                                  "status": p.get("status"), "reason": p.get("reason")} for p in g.get("performance", [])}}
san = {}
if (w / "sanitizer" / "sanitizer.tsv").exists():
    for l in (w / "sanitizer" / "sanitizer.tsv").read_text().splitlines():
        tool, exe, rc = l.split("\t")
        san.setdefault(tool, {})[exe] = "clean" if rc == "0" else ("errors" if rc == "99" else "rc " + rc)
summary = {"gpu": gpu, "sm": arch, "budget_s": budget, "seconds": seconds, "steps": steps,
           "gpu_tests": ctest("gpu-tests.txt"), "other_tests": ctest("tests.txt"), "sanitizer": san,
           "gradings": gradings,
           "benchmarks": {f.stem: load(f) for f in sorted((w / "bench").glob("*.json"))}}
(w / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
EOF
cp "$W/summary.txt" "$W/summary.json" "$W/nvidia-smi.txt" "$W/commands.txt" "$out/" 2> /dev/null
cp "$W/steps.tsv" "$W/logs/" 2> /dev/null
tar -czf "$out/logs.tar.gz" -C "$W" logs
[ -d "$W/sanitizer" ] && tar -czf "$out/sanitizer.tar.gz" -C "$W" sanitizer
tar -czf "$out/bench.tar.gz" -C "$W" bench
tar -czf "$out/grader.tar.gz" -C "$W" grader
say "done in $(( $(date +%s) - START )) s: $(ls "$out" | tr '\n' ' ')"
[ -z "${SKIP_ALL:-}" ]  # exit status: 1 when the build failed, else 0 (each step's result: summary.json)
