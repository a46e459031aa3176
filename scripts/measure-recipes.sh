#!/usr/bin/env bash
# Measures training steps of several recipes on three families (the standard sweep's warm-up,
# repetitions and times) and sets the measured mem_alloc beside the simulated step's peak
# (p4s predict --peak: the simulation, before any fitted term):
#   scripts/measure-recipes.sh OUT_DIR [MODEL.json]
# Writes OUT_DIR/recipe-<recipe>-<net>.json (Google Benchmark results, the recipe in their
# context: a results folder p4s fit reads) and prints a Markdown table: recipe x network x batch,
# simulated and measured mem_alloc, their difference. The device runtime simulated is MODEL's,
# by default that of a model fitted on these measurements (the runtime that explains them). The
# bench runs on this machine's CPU with one thread, or with DEVICE=cuda on the GPU (where the
# fp16 recipe, CUDA's only, is measured too); BATCHES (default 2,4,9,16) sets the batches.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:?usage: measure-recipes.sh OUT_DIR [MODEL.json]}
bench=${BENCH:-$root/build/bench/bench}
p4s=${P4S:-$root/build/cli/p4s}
for tool in "$bench" "$p4s"; do
  [[ -x "$tool" ]] || { echo "measure-recipes: $tool not found; build first (scripts/build.sh)" >&2; exit 2; }
done
mkdir -p "$out"
batches=${BATCHES:-2,4,9,16}
device=${DEVICE:-cpu}
case $device in
  cpu) device_flags=(--p4s_device=cpu --p4s_threads=1) ;;
  cuda) device_flags=(--p4s_device=cuda) ;;
  *) echo "measure-recipes: DEVICE=$device is not cpu or cuda" >&2; exit 2 ;;
esac
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# network and the layer from which its late-layer recipes train (about two thirds in)
nets=(resnet18_cifar10:layer3_0_downsample_0 mobilenetv2_cifar10:features_12_conv_0_0
      squeezenet1.1_cifar10:features_10_squeeze)
# bf16 autocast: also AlexNet, whose linear layers are cast too (LibTorch 1.13 cannot train
# MobileNetV2's ReLU6 in bfloat16 on the CPU: those cases are error entries, shown as such)
half_nets=("${nets[@]}" alexnet_cifar10:classifier_4)
# recipe name | its bench flags | its p4s predict flags ("," for none; LATE: the net's layer)
# | the networks (nets or half_nets)
recipes=(
  "default|,|,|nets"
  "sgd-plain|--p4s_momentum=0 --p4s_weight_decay=0|--momentum 0 --weight-decay 0|nets"
  "sgd-nesterov|--p4s_optimizer=sgd-nesterov|--optimizer sgd-nesterov|nets"
  "adam|--p4s_optimizer=adam|--optimizer adam|nets"
  "adamw|--p4s_optimizer=adamw|--optimizer adamw|nets"
  "adam-late|--p4s_optimizer=adam --p4s_train_from=LATE|--optimizer adam --train-from LATE|nets"
  "sgd-late-eval-bn|--p4s_train_from=LATE --p4s_freeze_bn|--train-from LATE --freeze-bn|nets"
  "bf16|--p4s_precision=bf16|--precision bf16|half_nets"
  "bf16-adamw-late|--p4s_precision=bf16 --p4s_optimizer=adamw --p4s_train_from=LATE|--precision bf16 --optimizer adamw --train-from LATE|half_nets"
  "fp16|--p4s_precision=fp16|--precision fp16|half_nets"
)
# RECIPES (names, comma-separated) measures only those (RECIPES=none: nothing, the table
# alone); the table covers every file in OUT_DIR.
only=${RECIPES:-}
flags() { [[ "$1" == "," ]] && return; echo "${1//LATE/$2}"; }

for recipe in "${recipes[@]}"; do
  IFS='|' read -r name bench_flags _ list <<< "$recipe"
  [[ -z "$only" || ",$only," == *",$name,"* ]] || continue
  [[ "$bench_flags" != *fp16* || "$device" == cuda ]] || continue  # float16 autocast: CUDA only
  declare -n entries=$list
  for entry in "${entries[@]}"; do
    net=${entry%%:*} late=${entry#*:}
    echo "measure-recipes: $name $net" >&2
    # shellcheck disable=SC2046  # the flags are words
    "$bench" --p4s_sweep=standard --p4s_net="$net" --p4s_batch="$batches" "${device_flags[@]}" \
      $(flags "$bench_flags" "$late") --benchmark_filter="^Net/$net/" \
      --benchmark_out="$out/recipe-$name-$net.json" --benchmark_out_format=json > /dev/null 2> "$work/log" ||
      { cat "$work/log" >&2; exit 1; }
  done
done

model=${2:-}
if [[ -z "$model" ]]; then
  model="$work/model.json"
  "$p4s" fit --out "$model" "$out"/recipe-*.json > /dev/null
fi
echo "| recipe | network | batch | simulated MiB | measured MiB | difference |"
echo "| --- | --- | ---: | ---: | ---: | ---: |"
for recipe in "${recipes[@]}"; do
  IFS='|' read -r name _ predict_flags list <<< "$recipe"
  declare -n entries=$list
  for entry in "${entries[@]}"; do
    net=${entry%%:*} late=${entry#*:}
    [[ -f "$out/recipe-$name-$net.json" ]] || continue
    # shellcheck disable=SC2046
    "$p4s" predict --model "$model" --batch "$batches" --peak --json $(flags "$predict_flags" "$late") "$net" \
      2> /dev/null > "$work/predicted.json"
    for b in ${batches//,/ }; do
      grep -q "\"name\": \"Net/$net/bs:$b[/\"]" "$out/recipe-$name-$net.json" || continue  # not measured
      measured=$(grep -A30 "\"name\": \"Net/$net/bs:$b/manual_time_median\"" "$out/recipe-$name-$net.json" |
        grep -m1 '"mem_alloc"' | sed 's/.*: //; s/,$//' || true)
      simulated=$(awk -v b="$b" 'BEGIN{RS="\"batch\":"} NR>1 && $0 ~ "^"b"[,}]" {
          match($0, /"peak":\{"bytes":[0-9]+/); print substr($0, RSTART+16, RLENGTH-16)}' "$work/predicted.json")
      if [[ -z "$measured" ]]; then  # an error entry: the step did not run
        awk -v r="$name" -v n="$net" -v b="$b" -v s="$simulated" \
          'BEGIN{printf "| %s | %s | %d | %.2f | did not run | |\n", r, n, b, s/1048576}'
        continue
      fi
      awk -v r="$name" -v n="$net" -v b="$b" -v s="$simulated" -v m="$measured" \
        'BEGIN{printf "| %s | %s | %d | %.2f | %.2f | %+.0f B |\n", r, n, b, s/1048576, m/1048576, s-m}'
    done
  done
done
