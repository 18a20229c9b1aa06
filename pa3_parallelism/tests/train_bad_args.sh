#!/usr/bin/env bash
# pa3_train and pa3_train_single refuse a malformed option value with exit code 2 and a message
# naming the option and the value, before loading data or starting ranks (no silent 0, as
# atoi would give). CTest test pa3_train_bad_arguments.
#
#   train_bad_args.sh PA3_TRAIN PA3_TRAIN_SINGLE
set -uo pipefail
train="$1" single="$2"
failed=0
# expect PROGRAM "MESSAGE" ARGS...: the program must exit 2 with MESSAGE on stderr.
expect() {
  local prog="$1" want="$2"
  shift 2
  local err rc
  err=$("$prog" "$@" 2>&1 >/dev/null)
  rc=$?
  if [ "$rc" -ne 2 ] || [[ "$err" != *"$want"* ]]; then
    echo "FAIL: $(basename "$prog") $*: exit $rc, stderr: $err (expected exit 2 and: $want)"
    failed=1
  fi
}
expect "$train" "--steps expects an integer, got 'abc'" --steps abc
expect "$train" "--dp must be >= 1, got 0" --dp 0
expect "$train" "--batch expects an integer, got '8x'" --batch 8x
expect "$train" "--lr expects a number > 0, got 'fast'" --lr fast
expect "$train" "--seq needs a value" --seq
expect "$train" "--stages expects a comma-separated list of block counts, got item 'x'" \
  --tp 2 --stages 1,x
expect "$train" "--zero must be 1" --pp 2 --zero 3
expect "$train" "unknown argument --bogus" --bogus
expect "$single" "--batch must be >= 1, got -3" --batch -3
expect "$single" "--temperature expects a number > 0, got 'nan'" --temperature nan
[ "$failed" -eq 0 ] && echo "pa3_train bad arguments: all refused"
exit "$failed"
