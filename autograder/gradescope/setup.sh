#!/usr/bin/env bash
# Gradescope set-up for mlsys @PA@ (runs once, when Gradescope builds the autograder image on
# its Ubuntu 22.04 base, as root). Installs the toolchain and libraries, builds the grader, and
# warms its build cache with the reference solutions and the starter code, so that grading a
# submission later compiles only the student's files. Written by `./mlsys release`.
#
# MLSYS_AUTOGRADER_ROOT (default /autograder) and MLSYS_SKIP_APT=1 let the course's tests run
# this in a simulated /autograder without touching the machine's packages.
set -euo pipefail
ROOT="${MLSYS_AUTOGRADER_ROOT:-/autograder}"
SRC="$ROOT/source"
COURSE="$SRC/course"
JOBS="$(nproc)"

if [ -z "${MLSYS_SKIP_APT:-}" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y --no-install-recommends \
    build-essential cmake ninja-build libeigen3-dev nlohmann-json3-dev libgtest-dev \
    python3 python3-pip ca-certificates
  # The course needs CMake >= 3.22 (Ubuntu 22.04 ships 3.22.1); an older image gets it from pip.
  if ! cmake --version | awk 'NR==1 { split($3, v, "."); exit !(v[1] > 3 || (v[1] == 3 && v[2] >= 22)) }'; then
    python3 -m pip install 'cmake>=3.22'
  fi
fi

mkdir -p "$ROOT/work"
chmod o+x "$ROOT" "$ROOT/work"  # the grader's test users must reach its work folder

# The grader alone (it does not depend on any PA code).
cmake -S "$COURSE/autograder" -B "$SRC/grader-build" -DCMAKE_BUILD_TYPE=Release
cmake --build "$SRC/grader-build" -j"$JOBS" --target mlsys_grade

# Warm the cache: the reference build (every task's solution) and the starter code's builds.
# The benchmarks are skipped here: only the builds are worth keeping.
# A failure here does not stop the image: run_autograder builds whatever is missing.
GRADE=("$SRC/grader-build/mlsys_grade" grade --tree "$COURSE" --rubric "$COURSE/autograder/rubrics/@PA@.json"
       --work "$ROOT/work/@PA@" --jobs "$JOBS" --quiet --skip-performance)
"${GRADE[@]}" --solution --expect full || echo "setup.sh: warning: the reference solutions did not score full marks"
"${GRADE[@]}" --expect 0 || echo "setup.sh: warning: the starter code did not score 0"
echo "setup.sh: ready"
