#!/usr/bin/env bash
# pa3_train --dp 2 --tp 2 --pp 2 (3D, Task 7) on the threads backend and under mpirun -n 8,
# against one process (pa3_train --single --dp 2: train_single with the global batch as the 2
# data-parallel shards). Checks:
#   - threads and MPI: every step's loss and the final weights' checksum identical (at DP = 2
#     and TP = 2 every reduction adds two terms, and a + b == b + a);
#   - 3D vs one process: every step's loss within 1e-5 (TP = 2 splits sums: handouts/pa3.md,
#     Task 7, measured within 1e-6 on the logged losses).
# CTest test pa3_train_3d_equivalence (staff builds with MPI).
#
#   train_3d_equivalence.sh PA3_TRAIN OUT_DIR MPIEXEC -- [pa3_train options]
set -euo pipefail
train="$1" out="$2" mpiexec="$3"
shift 3
[ "${1:-}" = "--" ] && shift
mkdir -p "$out"

"$train" --single --dp 2 --csv "$out/single.csv" "$@" | tee "$out/single.log"
"$train" --backend threads --dp 2 --tp 2 --pp 2 --csv "$out/threads.csv" "$@" | tee "$out/threads.log"
"$mpiexec" --allow-run-as-root --oversubscribe --timeout 100 -n 8 \
  "$train" --backend mpi --dp 2 --tp 2 --pp 2 --csv "$out/mpi.csv" "$@" | tee "$out/mpi.log"

status=0
if ! diff <(cut -d, -f1,2 "$out/threads.csv") <(cut -d, -f1,2 "$out/mpi.csv"); then
  echo "FAILED: the losses per step differ between threads (left) and MPI (right)"
  status=1
fi
a=$(grep "final weights: checksum" "$out/threads.log" || true)
b=$(grep "final weights: checksum" "$out/mpi.log" || true)
if [ -z "$a" ] || [ "$a" != "$b" ]; then
  echo "FAILED: final weights differ: threads '$a', MPI '$b'"
  status=1
fi
if ! paste -d, <(tail -n +2 "$out/single.csv" | cut -d, -f2) <(tail -n +2 "$out/threads.csv" | cut -d, -f2) |
    awk -F, '{d = $1 - $2; if (d < 0) d = -d; if (d > 1e-5) { print "step " NR ": " $1 " vs " $2; bad = 1 } } END { exit bad }'; then
  echo "FAILED: 3D losses differ from one process by more than 1e-5"
  status=1
fi
n=$(tail -n +2 "$out/threads.csv" | wc -l)
[ "$n" -gt 0 ] || { echo "FAILED: no steps logged"; status=1; }
[ $status -eq 0 ] && echo "pa3_train --dp 2 --tp 2 --pp 2: threads == MPI bit for bit, == one process within 1e-5 ($n steps)"
exit $status
