"""Building a network that fills every core's kernel memory, from safetensors (issue 5).

1. In-process: link + bind + quantize + emit (the document with numpy tensors), and the JSON
   text on top, against the goal of 30 ms for the first four.
2. Whole process: `dynapcnn-dsl build` against `python -c "import pydantic, ruamel.yaml, numpy"`,
   interleaved in this run. torch must not be imported for safetensors input (checked).

    python benchmarks/build.py [--runs N]
"""

from __future__ import annotations

import argparse
import compileall
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from _timing import compare, in_process, random_weights  # noqa: E402

NETWORK = ROOT / "benchmarks" / "networks" / "kernel-full.yaml"
GOAL_MS = 30.0


def main() -> int:
    from safetensors.numpy import save_file

    from dynapcnn_dsl.emit import to_json
    from dynapcnn_dsl.pipeline import STEPS, Stage, options, run_file

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    compileall.compile_dir(str(ROOT / "dynapcnn_dsl"), quiet=1)

    checked = run_file(NETWORK, until=Stage.RULES)
    linked = run_file(NETWORK).linked
    tensors = random_weights(linked)
    with tempfile.TemporaryDirectory() as tmp:
        weights = Path(tmp) / "w.safetensors"
        save_file(tensors, str(weights))
        steps = [step for stage, step in STEPS if stage > Stage.RULES]
        chosen = options(until=Stage.EMIT, weights=weights)

        def run_pipeline():
            result = checked
            for step in steps:  # the pipeline's own phases after the rules: link, bind, emit
                result = step(result, chosen)
            return result.emitted

        doc = run_pipeline()
        pipeline = in_process(run_pipeline, args.runs).median
        text = in_process(lambda: to_json(doc), max(args.runs // 4, 3)).median
        torch_loaded = "torch" in sys.modules
        print(f"{NETWORK.name}: {sum(t.size for t in tensors.values())} weights, {args.runs} runs")
        print(f"in-process link + bind + quantize + emit: median {pipeline:.1f} ms "
              f"(goal < {GOAL_MS:.0f} ms) {'ok' if pipeline < GOAL_MS else 'OVER GOAL'}")
        print(f"JSON text of the document: median {text:.1f} ms")
        print(f"torch imported in-process: {torch_loaded}")

        script = Path(sys.executable).with_name("dynapcnn-dsl")
        out = Path(tmp) / "config.json"
        cmd = [str(script), "build", str(NETWORK), str(weights), "-o", str(out), "--quiet"]
        probe = subprocess.run([sys.executable, "-c",
                                "import sys; from dynapcnn_dsl.cli import run; "
                                f"run({cmd[1:]!r}); print('torch' in sys.modules)"],
                               capture_output=True, text=True, check=True)
        print(f"torch imported by `dynapcnn-dsl build` (safetensors): {probe.stdout.strip()}")
        baseline = [sys.executable, "-c", "import pydantic, ruamel.yaml, numpy"]
        cand, base = compare(cmd, baseline, runs=max(args.runs // 2, 5), cwd=str(ROOT))
        print(f"whole process `dynapcnn-dsl build`: median {cand.median * 1000:.0f} ms; baseline "
              f"`import pydantic, ruamel.yaml, numpy`: {base.median * 1000:.0f} ms; ratio "
              f"{cand.median / base.median:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
