#!/usr/bin/env bash
# ctest on one build folder, all cores, with the output of failing tests. When a test fails,
# the failed tests are run once more, verbosely, so that their output ends the log (a CI log
# that keeps only its tail still shows why), and whether they fail again tells a flaky test
# from a broken one. Exits with the first run's status.
#
#   scripts/run-ctest.sh BUILD_DIR [ctest arguments]
set -uo pipefail
build=${1:?usage: scripts/run-ctest.sh BUILD_DIR [ctest arguments]}
shift
ctest --test-dir "$build" --output-on-failure --parallel "$(nproc)" "$@"
status=$?
if ((status != 0)); then
  echo "run-ctest: ctest in $build exited $status; the failed tests once more, verbosely:" >&2
  ctest --test-dir "$build" --rerun-failed --output-on-failure -V "$@" 2>&1 | tail -n 300
  echo "run-ctest: the second run exited ${PIPESTATUS[0]}; ctest in $build exited $status" >&2
fi
exit "$status"
