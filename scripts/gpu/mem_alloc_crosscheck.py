#!/usr/bin/env python3
"""Cross-checks the bench's mem_alloc (and mem_reserved) on the GPU against PyTorch's own
torch.cuda.max_memory_allocated (max_memory_reserved) for the same training step of the same
NetSpecs, in Python's PyTorch.

A measuring aid for the GPU session (scripts/gpu-session.sh), not part of the product: the
project builds, runs and tests without Python. The network is built here from the NetSpec file
as modelgen/torch builds it (same ops, PyTorch's defaults, every intermediate tensor dropped
after its last consumer), and the step is the project's: forward on a random float32 batch,
cross-entropy, zero_grad keeping the gradients allocated, backward, and
SGD(lr=0.1, momentum=0.9, weight_decay=5e-4) updating one parameter at a time as LibTorch's C++
SGD does (foreach=False). Peaks are reset after the warm-up steps, as the bench resets them.

  mem_alloc_crosscheck.py --bench BENCH.json --out FILE --batch 2,8,32 [--warmup 1] [--steps 3]
                          NETSPEC.json...
"""
import argparse
import gc
import json
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F


def pair(v):
    return (v, v) if isinstance(v, int) else (v[0], v[1])


class NetSpecNet(nn.Module):
    """A NetSpec v1 network: its layers in file order, each output freed after its last use."""

    def __init__(self, spec):
        super().__init__()
        self.spec = spec
        self.layers = spec["layers"]
        self.mods = nn.ModuleDict()
        index = {layer["name"]: i for i, layer in enumerate(self.layers)}
        self.last_use = list(range(len(self.layers)))
        for i, layer in enumerate(self.layers):
            for name in layer["inputs"]:
                if name != "input":
                    self.last_use[index[name]] = i
            module = self.make_module(layer)
            if module is not None:
                self.mods[self.key(i)] = module
        self.output = index[spec["output"]]
        self.index = index

    @staticmethod
    def key(i):
        return f"l{i}"  # ModuleDict keys may not contain '.'

    @staticmethod
    def make_module(layer):
        op = layer["op"]
        if op == "conv2d":
            return nn.Conv2d(layer["in_channels"], layer["out_channels"], pair(layer["kernel"]),
                             stride=pair(layer.get("stride", 1)), padding=pair(layer.get("padding", 0)),
                             dilation=pair(layer.get("dilation", 1)), groups=layer.get("groups", 1),
                             bias=layer.get("bias", True))
        if op == "batchnorm2d":
            return nn.BatchNorm2d(layer["features"])
        if op == "linear":
            return nn.Linear(layer["in_features"], layer["out_features"], bias=layer.get("bias", True))
        return None

    def run(self, i, layer, ins):
        op = layer["op"]
        if op in ("conv2d", "batchnorm2d", "linear"):
            return self.mods[self.key(i)](ins[0])
        if op == "relu":
            return torch.relu_(ins[0]) if layer.get("inplace", False) else torch.relu(ins[0])
        if op == "relu6":
            if layer.get("inplace", False):
                return F.hardtanh_(ins[0], 0.0, 6.0)
            return F.hardtanh(ins[0], 0.0, 6.0)
        if op in ("maxpool2d", "avgpool2d"):
            kernel = pair(layer["kernel"])
            stride = pair(layer.get("stride", layer["kernel"]))
            padding = pair(layer.get("padding", 0))
            ceil = layer.get("ceil_mode", False)
            if op == "maxpool2d":
                return F.max_pool2d(ins[0], kernel, stride, padding, 1, ceil)
            return F.avg_pool2d(ins[0], kernel, stride, padding, ceil, True, None)
        if op == "adaptive_avgpool2d":
            return F.adaptive_avg_pool2d(ins[0], pair(layer["output_size"]))
        if op == "add":
            return torch.add(ins[0], ins[1])
        if op == "concat":
            return torch.cat(ins, 1)
        if op == "flatten":
            return ins[0].flatten(1)
        if op == "dropout":
            return F.dropout(ins[0], layer.get("p", 0.5), self.training)
        raise ValueError(f"layer {layer['name']}: unknown op {op}")

    def forward(self, x):
        outs = [None] * len(self.layers)
        for i, layer in enumerate(self.layers):
            producers = [-1 if n == "input" else self.index[n] for n in layer["inputs"]]
            ins = [x if p < 0 else outs[p] for p in producers]
            outs[i] = self.run(i, layer, ins)
            del ins
            for p in producers:
                if p >= 0 and self.last_use[p] == i and p != self.output:
                    outs[p] = None
            if self.last_use[i] == i and i != self.output:
                outs[i] = None
        return outs[self.output]


def measure(spec, batch, warmup, steps, device):
    """Peak allocated and reserved bytes over `steps` training steps after `warmup` ones."""
    torch.cuda.empty_cache()
    net = NetSpecNet(spec).to(device)
    net.train()
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4, foreach=False)
    inp = spec["input"]
    inputs = torch.randn(batch, inp["channels"], inp["height"], inp["width"], device=device)
    labels = torch.randint(spec["classes"], (batch,), device=device)
    last_loss = None

    def step():
        loss = F.cross_entropy(net(inputs), labels)
        opt.zero_grad(set_to_none=False)
        loss.backward()
        opt.step()
        return loss.detach()

    for _ in range(warmup):
        last_loss = step()
    torch.cuda.reset_peak_memory_stats(device)
    for _ in range(steps):
        last_loss = step()
    torch.cuda.synchronize(device)
    result = (torch.cuda.max_memory_allocated(device), torch.cuda.max_memory_reserved(device))
    del net, opt, inputs, labels, last_loss
    gc.collect()
    torch.cuda.empty_cache()
    return result


def bench_results(path):
    """(net, batch) -> (mem_alloc, mem_reserved) of the bench's Net/<net>/bs:<batch> entries."""
    with open(path) as f:
        doc = json.load(f)
    out = {}
    for b in doc.get("benchmarks", []):
        name = b.get("run_name", b["name"])
        if not name.startswith("Net/") or b.get("error_occurred") or b.get("run_type") == "aggregate":
            continue
        _, net, bs = name.split("/")[:3]
        out[(net, int(bs[len("bs:"):]))] = (b.get("mem_alloc"), b.get("mem_reserved"))
    return out, doc.get("context", {})


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bench", required=True, help="the bench's results for the same networks")
    ap.add_argument("--out", required=True)
    ap.add_argument("--batch", required=True, help="batch sizes, e.g. 2,8,32")
    ap.add_argument("--warmup", type=int, default=1, help="the sweep's warm-up steps")
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--device", default="cuda:0")
    ap.add_argument("netspecs", nargs="+")
    args = ap.parse_args()
    device = torch.device(args.device)
    bench, context = bench_results(args.bench)

    cases = []
    for path in args.netspecs:
        with open(path) as f:
            spec = json.load(f)
        for batch in (int(b) for b in args.batch.split(",")):
            row = {"net": spec["name"], "batch": batch}
            try:
                row["torch_mem_alloc"], row["torch_mem_reserved"] = measure(spec, batch, args.warmup,
                                                                            args.steps, device)
            except torch.cuda.OutOfMemoryError as e:
                row["torch_error"] = "out of memory: " + str(e).splitlines()[0]
                gc.collect()
                torch.cuda.empty_cache()
            alloc, reserved = bench.get((spec["name"], batch), (None, None))
            row["bench_mem_alloc"], row["bench_mem_reserved"] = alloc, reserved
            if alloc is not None and "torch_mem_alloc" in row:
                row["mem_alloc_diff_bytes"] = alloc - row["torch_mem_alloc"]
                row["mem_alloc_ratio"] = alloc / row["torch_mem_alloc"]
            if reserved is not None and "torch_mem_reserved" in row:
                row["mem_reserved_ratio"] = reserved / row["torch_mem_reserved"]
            cases.append(row)
            print(json.dumps(row), flush=True)

    result = {
        "format": "p4s_mem_alloc_crosscheck",
        "torch": torch.__version__,
        "torch_cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version(),
        "gpu": torch.cuda.get_device_name(device),
        "bench_libtorch": context.get("p4s_libtorch"),
        "warmup_steps": args.warmup,
        "measured_steps": args.steps,
        "cases": cases,
    }
    ratios = [c["mem_alloc_ratio"] for c in cases if "mem_alloc_ratio" in c]
    if ratios:
        result["mem_alloc_ratio_min"], result["mem_alloc_ratio_max"] = min(ratios), max(ratios)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
