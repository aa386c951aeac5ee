"""In-process time to link the largest example (issue 3: under 10 ms).

Linking = name resolution, shape inference, memory, placement, the link-stage rules and building
the immutable linked network. The baseline, measured in the same run on the same file, is the
model phase (pydantic validation of the loaded data), so the ratio says how the linker's cost
compares with the library step every command already pays.

    python benchmarks/link.py [--runs N] [FILE]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from _timing import in_process  # noqa: E402

GOAL_MS = 10.0


def main() -> int:
    from dynapcnn_dsl.model.network import Network
    from dynapcnn_dsl.pipeline import Stage, link_phase, run_file

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", default="examples/chip-filling/network.yaml")
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()

    checked = run_file(ROOT / args.file, until=Stage.RULES)
    doc = checked.source
    linked = link_phase(checked, checked.options).linked  # warm up, and check it links
    assert linked is not None, checked.diagnostics

    link_med, link_best = in_process(lambda: link_phase(checked, checked.options), args.runs)
    model_med, model_best = in_process(lambda: Network.model_validate(doc.data), args.runs)
    print(f"{args.file}: {len(linked.cores)} cores, {args.runs} runs each")
    print(f"link:  median {link_med:.2f} ms, best {link_best:.2f} ms (goal < {GOAL_MS:.0f} ms) "
          f"{'ok' if link_med < GOAL_MS else 'OVER GOAL'}")
    print(f"model: median {model_med:.2f} ms, best {model_best:.2f} ms (baseline)")
    print(f"ratio link / model: {link_med / model_med:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
