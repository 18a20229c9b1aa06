#!/usr/bin/env bash
# pa3_train --dp 2 (ZeRO-1, threads or MPI backend) against pa3_train --single --dp 2 (one
# process, train_single with the global batch as 2 shards): every step's loss in the CSV logs
# and the final weights' checksum must be identical. CTest tests pa3_train_equivalence_*.
#
#   train_equivalence.sh PA3_TRAIN OUT_DIR threads|mpi [MPIEXEC] -- [pa3_train options]
set -euo pipefail
train="$1" out="$2" backend="$3"
shift 3
mpiexec=""
if [ "$backend" = mpi ]; then mpiexec="$1"; shift; fi
[ "${1:-}" = "--" ] && shift
mkdir -p "$out"

"$train" --single --dp 2 --csv "$out/single.csv" "$@" | tee "$out/single.log"
if [ "$backend" = mpi ]; then
  "$mpiexec" --allow-run-as-root --oversubscribe --timeout 60 -n 2 \
    "$train" --backend mpi --dp 2 --zero 1 --csv "$out/dp.csv" "$@" | tee "$out/dp.log"
else
  "$train" --backend threads --dp 2 --zero 1 --csv "$out/dp.csv" "$@" | tee "$out/dp.log"
fi

status=0
if ! diff <(cut -d, -f1,2 "$out/single.csv") <(cut -d, -f1,2 "$out/dp.csv"); then
  echo "FAILED: the losses per step differ (above: single, then --dp 2)"
  status=1
fi
a=$(grep "final weights: checksum" "$out/single.log" || true)
b=$(grep "final weights: checksum" "$out/dp.log" || true)
if [ -z "$a" ] || [ "$a" != "$b" ]; then
  echo "FAILED: final weights differ: single '$a', --dp 2 '$b'"
  status=1
fi
[ $status -eq 0 ] && echo "pa3_train --dp 2 --zero 1 ($backend) == pa3_train --single --dp 2: losses and weights bit for bit"
exit $status
