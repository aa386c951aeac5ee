"""In-process time to load and quantize weights that fill the chip's kernel memory (issue 4:
under 50 ms, excluding the torch import).

The network (benchmarks/networks/kernel-full.yaml) has exactly 272 Ki weights, every kernel
memory entry of the chip. Its weights are written at random to a temporary .safetensors and .pt
file; the timed step is read + bind + fold + quantize (the pipeline resumed from the linked
network). The baseline, measured in the same run, is the bare read of the same safetensors file
with the safetensors library.

The fold step does nothing on that network, so it is measured again on the same network with a
BatchNorm folded into every core (`batchnorm:`) and its pooled link averaging (`average: true`):
the whole step with the BatchNorm tensors in the file, and the fold phase alone on the bound
network, both against the same baseline.

    python benchmarks/weights.py [--runs N]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from _timing import in_process, random_weights  # noqa: E402

NETWORK = ROOT / "benchmarks" / "networks" / "kernel-full.yaml"
GOAL_MS = 50.0


def with_folds(text: str) -> str:
    """kernel-full.yaml with `batchnorm: <core>.bn` on every core and its pooled link averaging."""
    text = re.sub(r"^  (\w+): \{conv:", r"  \1: {batchnorm: \1.bn, conv:", text, flags=re.M)
    return text.replace("pool: 2}", "pool: 2, average: true}")


def folding(tmp: str, tensors: dict, read_med: float, runs: int) -> None:
    """The fold step's cost: BatchNorm on every core, one averaging link."""
    import numpy as np
    from safetensors.numpy import save_file

    from dynapcnn_dsl.pipeline import Stage, resume, run_text
    from dynapcnn_dsl.weights import fold

    result = run_text(with_folds(NETWORK.read_text(encoding="utf-8")), str(NETWORK))
    assert result.ok, [d.message for d in result.diagnostics]
    rng = np.random.default_rng(1)
    with_bn = dict(tensors)
    for core in result.linked.cores:
        out = result.linked.logical_out(core)
        with_bn |= {f"{core.name}.bn.weight": rng.uniform(0.5, 1.5, out).astype(np.float32),
                    f"{core.name}.bn.bias": rng.normal(0, 0.1, out).astype(np.float32),
                    f"{core.name}.bn.running_mean": rng.normal(0, 0.1, out).astype(np.float32),
                    f"{core.name}.bn.running_var": rng.uniform(0.5, 1.5, out).astype(np.float32)}
    st = Path(tmp) / "bn.safetensors"
    save_file(with_bn, str(st))
    bound = resume(result, until=Stage.BIND, weights=st)
    assert bound.bound is not None, bound.diagnostics
    smap = bound.source.source_map
    step_med, step_best = in_process(lambda: resume(result, until=Stage.QUANTIZE, weights=st), runs)
    fold_med, fold_best = in_process(lambda: fold(bound.bound, smap), runs)
    print(f"with {len(result.linked.cores)} BatchNorms folded and one average link:")
    print(f"  read + bind + fold + quantize:    median {step_med:.1f} ms, best {step_best:.1f} ms "
          f"(ratio to the baseline {step_med / read_med:.2f}x) "
          f"{'ok' if step_med < GOAL_MS else 'OVER GOAL'}")
    print(f"  the fold phase alone:             median {fold_med:.1f} ms, best {fold_best:.1f} ms "
          f"(ratio to the baseline {fold_med / read_med:.2f}x)")


def main() -> int:
    from safetensors.numpy import load_file, save_file

    from dynapcnn_dsl.pipeline import Stage, resume, run_file

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    result = run_file(NETWORK)
    assert result.ok, [d.message for d in result.diagnostics]
    linked = result.linked
    tensors = random_weights(linked)
    n = sum(t.size for t in tensors.values())
    capacity = sum(m.kernel for m in linked.chip.memory)
    with tempfile.TemporaryDirectory() as tmp:
        st = Path(tmp) / "w.safetensors"
        save_file(tensors, str(st))
        weighted = resume(result, until=Stage.QUANTIZE, weights=st)
        assert weighted.quantized is not None, weighted.diagnostics
        bind_med, bind_best = in_process(lambda: resume(result, until=Stage.QUANTIZE, weights=st),
                                         args.runs)
        read_med, read_best = in_process(lambda: load_file(str(st)), args.runs)
        print(f"{n} weights ({n / 1024:g} Ki; the chip's kernel memory is {capacity / 1024:g} Ki), "
              f"{args.runs} runs each")
        print(f"safetensors read + bind + fold + quantize: median {bind_med:.1f} ms, best {bind_best:.1f} ms "
              f"(goal < {GOAL_MS:.0f} ms) {'ok' if bind_med < GOAL_MS else 'OVER GOAL'}")
        print(f"baseline, safetensors read alone:   median {read_med:.1f} ms, best {read_best:.1f} ms")
        print(f"ratio: {bind_med / read_med:.2f}x")
        folding(tmp, tensors, read_med, args.runs)
        try:
            import torch
        except ImportError:
            print("torch is not installed: .pt not measured")
            return 0
        pt = Path(tmp) / "w.pt"
        torch.save({k: torch.from_numpy(v) for k, v in tensors.items()}, pt)
        pt_med, pt_best = in_process(lambda: resume(result, until=Stage.QUANTIZE, weights=pt), args.runs)
        print(f".pt (torch.load weights_only) + bind + quantize, torch already imported: median "
              f"{pt_med:.1f} ms, best {pt_best:.1f} ms "
              f"{'ok' if pt_med < GOAL_MS else 'OVER GOAL'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
