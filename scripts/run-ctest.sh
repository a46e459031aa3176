#!/usr/bin/env bash
# ctest on one build folder, all cores. A passing test is not printed line by line (a progress
# line every 100 tests stands in for them); a failing test is printed with its output, and the
# summary in full. When a test fails, the failed tests are run once more, verbosely, so that
# their output ends the log (a CI log that keeps only part of its text still shows why), and
# whether they fail again tells a flaky test from a broken one.
#
# Then it says how many tests the build registers, how many ran and how many were skipped, by
# reason (scripts/audit-tests.sh, on ctest's JUnit file). With P4S_REQUIRE_ALL=1 a skip is
# allowed only where the machine justifies it (no GPU, or one that makes a no-GPU test
# moot); any other skip fails the run. Exits with the first run's status, else the audit's.
#
#   scripts/run-ctest.sh BUILD_DIR [ctest arguments]
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:?usage: scripts/run-ctest.sh BUILD_DIR [ctest arguments]}
shift
# ctest runs tests side by side, each LibTorch process with as many OpenMP threads as cores:
# the torch wheel's OpenMP spins while it waits, and with more threads than cores the family
# training tests took five to eight times as long. Passive waiting, for the tests only (bench's
# own measurements run alone and keep LibTorch's defaults).
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
junit="$(cd "$build" && pwd)/ctest-junit.xml"
rm -f "$junit"
ctest --test-dir "$build" --output-on-failure --parallel "$(nproc)" --output-junit "$junit" "$@" 2>&1 |
  awk '
    /^ +Start +[0-9]+: / { next }
    /^ *[0-9]+\/[0-9]+ Test +#[0-9]+: / {
      split($1, done, "/")
      passed = $0 ~ / Passed +[0-9.]+ sec$/
      if (!passed) print
      if (done[1] % 100 == 0) printf "run-ctest: %d of %d tests done\n", done[1], done[2]
      fflush()
      next
    }
    { print; fflush() }'
status=${PIPESTATUS[0]}
if ((status != 0)); then
  echo "run-ctest: ctest in $build exited $status; the failed tests once more, verbosely:"
  ctest --test-dir "$build" --rerun-failed --output-on-failure -V "$@" 2>&1 | tail -n 300
  echo "run-ctest: the second run exited ${PIPESTATUS[0]}; ctest in $build exited $status"
  exit "$status"
fi
"$root/scripts/audit-tests.sh" "$junit"
