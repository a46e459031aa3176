#!/usr/bin/env bash
# How many tests a ctest run registered, ran and skipped, and why each skipped one did, from
# ctest's JUnit file (ctest --output-junit). A GoogleTest skip gives its reason on the line
# after "Skipped"; a test ctest could not run at all has none.
#
# A skip is justified only by the machine: it has no usable GPU (the GPU tests skip), or it has
# one (the tests of the no-GPU path skip). With P4S_REQUIRE_ALL=1 any other skip, or a test
# that did not run, fails: on CI every test the suite registers must run where it can.
#
#   scripts/audit-tests.sh CTEST_JUNIT.xml
set -euo pipefail
junit=${1:?usage: scripts/audit-tests.sh CTEST_JUNIT.xml}
[[ -f "$junit" ]] || { echo "audit-tests: $junit not found" >&2; exit 2; }
# The reasons the machine justifies, as extended regular expressions on the skip message.
justified='no CUDA driver|no usable CUDA device|kernel capture on|capture is on here'

awk -v justified="$justified" -v strict="${P4S_REQUIRE_ALL:-0}" '
  function finish() {
    if (name == "") return
    registered++
    if (status == "run") ran++
    else if (status == "fail") failed++
    else {
      if (reason == "") reason = "not run by ctest (no test program, or it did not start)"
      skipped++
      count[reason]++
      ok = reason ~ justified
      if (!ok) { unjustified++; example[reason] = name }
    }
    name = ""
  }
  /<testcase / {
    finish()
    match($0, /name="[^"]*"/); name = substr($0, RSTART + 6, RLENGTH - 7)
    match($0, /status="[^"]*"/); status = substr($0, RSTART + 8, RLENGTH - 9)
    reason = ""; after_skip = 0
    next
  }
  after_skip { reason = $0; sub(/^[ \t]+/, "", reason); after_skip = 0; next }
  /: Skipped$/ { after_skip = 1 }
  END {
    finish()
    printf "audit-tests: %d registered, %d ran, %d failed, %d skipped\n", registered, ran, failed, skipped
    for (r in count) printf "audit-tests:   %4d skipped: %s%s\n", count[r], r, (r ~ justified ? "" : "  (not justified by the machine)")
    if (strict == 1 && unjustified > 0) {
      for (r in example) printf "audit-tests: e.g. %s\n", example[r]
      printf "audit-tests: P4S_REQUIRE_ALL=1: %d tests did not run for reasons the machine does not justify\n", unjustified
      exit 1
    }
    if (strict == 1 && ran + skipped + failed != registered) exit 1
  }' "$junit"
