#!/usr/bin/env python3
"""CUPTI's overhead on the step time: the same bench cases run with --p4s_kernel_capture=off and
=on (Google Benchmark JSON with repetitions), compared case by case on their median real_time.

A measuring aid for the GPU session (scripts/gpu-session.sh), not part of the product: the
project builds, runs and tests without Python.

  capture_overhead.py --off off1.json [off2.json ...] --on on1.json [on2.json ...] --out FILE

Writes one JSON object: per case the medians of each run, the median over the runs of each
setting, overhead = on / off - 1, and the spread between the runs of one setting (how much the
machine itself drifts); then the median and the largest overhead over the cases.
"""
import argparse
import json
import statistics
import sys

TO_MS = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}


def medians(path):
    """run_name -> median real_time in ms, from a file of repeated runs (errors skipped)."""
    with open(path) as f:
        doc = json.load(f)  # Python's json reads the bare NaN/Infinity Google Benchmark can write
    out = {}
    for b in doc.get("benchmarks", []):
        if b.get("error_occurred") or b.get("aggregate_name") != "median":
            continue
        out[b["run_name"]] = b["real_time"] * TO_MS[b["time_unit"]]
    return out, doc.get("context", {}).get("p4s_kernel_capture", "")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--off", nargs="+", required=True, help="results with capture off")
    ap.add_argument("--on", nargs="+", required=True, help="results with capture on")
    ap.add_argument("--out", required=True, help="the comparison, as JSON")
    args = ap.parse_args()

    off = [medians(p) for p in args.off]
    on = [medians(p) for p in args.on]
    for (_, line), path in zip(on, args.on):
        if not line.startswith("kernel capture on"):
            print(f"{path}: capture was not on ({line!r}): no overhead to measure", file=sys.stderr)
            return 1
    names = sorted(set.intersection(*(set(m) for m, _ in off + on)))
    if not names:
        print("no case succeeded in every run", file=sys.stderr)
        return 1

    cases = []
    for name in names:
        off_ms = [m[name] for m, _ in off]
        on_ms = [m[name] for m, _ in on]
        off_med, on_med = statistics.median(off_ms), statistics.median(on_ms)
        cases.append({
            "case": name,
            "off_ms": off_ms,
            "on_ms": on_ms,
            "off_median_ms": off_med,
            "on_median_ms": on_med,
            "overhead": on_med / off_med - 1.0,
            "off_spread": max(off_ms) / min(off_ms) - 1.0,
            "on_spread": max(on_ms) / min(on_ms) - 1.0,
        })
    overheads = [c["overhead"] for c in cases]
    result = {
        "format": "p4s_capture_overhead",
        "capture": on[0][1],
        "cases": cases,
        "median_overhead": statistics.median(overheads),
        "max_overhead": max(overheads),
        "min_overhead": min(overheads),
    }
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    print(f"{'case':<58} {'off ms':>10} {'on ms':>10} {'overhead':>9} {'off spread':>10}")
    for c in cases:
        print(f"{c['case']:<58} {c['off_median_ms']:>10.4f} {c['on_median_ms']:>10.4f} "
              f"{100 * c['overhead']:>8.2f}% {100 * c['off_spread']:>9.2f}%")
    print(f"median overhead {100 * result['median_overhead']:.2f}% over {len(cases)} cases "
          f"(from {100 * result['min_overhead']:.2f}% to {100 * result['max_overhead']:.2f}%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
