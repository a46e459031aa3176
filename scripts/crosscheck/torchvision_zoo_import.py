#!/usr/bin/env python3
"""Optional cross-check: every CNN of torchvision's classification zoo, saved as TorchScript
(traced in training mode, traced in eval mode, scripted), imported by `p4s nets import`, with
the imported parameter count against the model's. Prints a Markdown table; exit status 1 if
any import fails or disagrees. Needs Python torch and torchvision; skips (exit 0) without them.
Nothing of the project needs this script.

  python3 scripts/crosscheck/torchvision_zoo_import.py build/cli/p4s [MODEL ...]
"""
import os
import re
import subprocess
import sys
import tempfile
import warnings

try:
    import torch
    import torchvision
except ImportError:
    print("torchvision_zoo_import: no torch / torchvision for this Python: skipped")
    sys.exit(0)

warnings.filterwarnings("ignore")
p4s = sys.argv[1] if len(sys.argv) > 1 else "build/cli/p4s"
names = sys.argv[2:] or [n for n in sorted(torchvision.models.list_models(module=torchvision.models))
                         if not n.startswith(("vit_", "swin_", "maxvit"))]  # transformers: not CNNs
torch.manual_seed(0)
failed = 0
print("| model | torchvision params | traced (train) | traced (eval) | scripted |")
print("|---|---:|---|---|---|")
with tempfile.TemporaryDirectory() as tmp:
    for name in names:
        # One output: the auxiliary heads make a second one in training mode.
        kw = {"aux_logits": False, "init_weights": False} if name in ("googlenet", "inception_v3") else {}
        size = 128 if name == "inception_v3" else 96  # inception's training-mode BN needs > 1 px
        model = torchvision.models.get_model(name, weights=None, **kw)
        params = sum(p.numel() for p in model.parameters())
        cells = []
        for mode in ("train", "eval", "script"):
            path = os.path.join(tmp, f"{name}.{mode}.pt")
            model.train(mode != "eval")
            try:
                if mode == "script":
                    saved = torch.jit.script(model)
                else:
                    with torch.no_grad():
                        saved = torch.jit.trace(model, torch.randn(1, 3, size, size), check_trace=False)
                torch.jit.save(saved, path)
            except Exception as e:  # PyTorch's own failure: not the importer's
                cells.append("not saved: " + str(e).splitlines()[0][:80])
                continue
            out = os.path.join(tmp, f"{name}.{mode}.json")
            r = subprocess.run([p4s, "nets", "import", path, "--input", f"3,{size},{size}", "-o", out],
                               capture_output=True, text=True)
            if r.returncode != 0:
                failed += 1
                cells.append("no: " + r.stderr.strip().splitlines()[-1][:120])
                continue
            said = re.search(r"\(\d+ layers, (\d+) parameters\)", r.stdout + r.stderr)  # "wrote ... (L layers, P parameters)"
            ours = int(said.group(1)) if said else None
            ok = ours == params
            failed += 0 if ok else 1
            cells.append("yes" if ok else f"no: {ours} parameters")
            os.remove(path)
        print(f"| {name} | {params:,} | " + " | ".join(cells) + " |", flush=True)
sys.exit(1 if failed else 0)
