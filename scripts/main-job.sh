#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, profiles this machine with the
# quick sweep (layer cases and built-in networks of four families), fits predictors on it, and
# shows predicted against measured for each family held out of the fit, beside the perf4sight
# baseline. Everything it writes goes to out/main-job/ (or $P4S_OUT).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${P4S_OUT:-$root/out/main-job}
build=${P4S_BUILD_DIR:-$root/build}

"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"
[[ -x "$build/bench/bench" ]] || { echo "main-job: bench was not built (is LibTorch installed?)" >&2; exit 1; }

mkdir -p "$out"
echo "== profiling this machine (the quick sweep: layer cases and networks of four families)"
"$build/bench/bench" --benchmark_out="$out/quick.json" --benchmark_out_format=json

echo
echo "== fitting, and predicting each family held out of the fit"
"$build/cli/p4s" fit --out "$out/model.json" --report "$out/report" "$out/quick.json"

echo
echo "== predictions of the fitted model (p4s predict)"
"$build/cli/p4s" predict --model "$out/model.json" --batch 8,64 resnet18_cifar10_p30_s2 mobilenetv2_cifar10_p70_s3

echo
echo "results: $out/quick.json; model: $out/model.json; report: $out/report/report.md"
