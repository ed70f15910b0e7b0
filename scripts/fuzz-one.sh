#!/usr/bin/env bash
# fuzz-one.sh GO PKG TARGET FUZZTIME — runs one fuzzer for FUZZTIME.
#
# Go 1.26's fuzz coordinator can report "context deadline exceeded" and
# fail at the -fuzztime boundary without having found anything
# (golang/go#75804, fixed in Go 1.27): a worker still running when the
# deadline fires. A real finding always prints "Failing input written to"
# (or a panic); only a bare deadline failure with neither is run once
# more. Any other failure fails at once.
set -uo pipefail
go=$1 pkg=$2 fn=$3 fuzztime=$4
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for attempt in 1 2; do
  "$go" test -run '^$' -fuzz "^$fn\$" -fuzztime "$fuzztime" "$pkg" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  [ "$status" -eq 0 ] && exit 0
  if [ "$attempt" -eq 1 ] && grep -q 'context deadline exceeded' "$log" &&
     ! grep -qE 'Failing input written to|panic:' "$log"; then
    echo "fuzz-one: $fn ended with Go's fuzztime deadline race and no failing input (golang/go#75804); running it once more"
    continue
  fi
  exit "$status"
done
