"""Whole-process time of `dynapcnn-dsl validate` against importing its three main libraries.

Goal (issue 2): validate on an example takes at most 1.6x the time of
`python -c "import pydantic, ruamel.yaml, jsonschema"`, both measured in this run.

    python benchmarks/validate_startup.py [--runs N] [FILE]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import compare

ROOT = Path(__file__).resolve().parents[1]
GOAL = 1.6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", default="examples/dvs-speck2f/network.yaml")
    parser.add_argument("--runs", type=int, default=31)
    args = parser.parse_args()
    script = Path(sys.executable).with_name("dynapcnn-dsl")
    validate = [str(script), "validate", args.file]
    baseline = [sys.executable, "-c", "import pydantic, ruamel.yaml, jsonschema"]
    cand, base = compare(validate, baseline, runs=args.runs, cwd=str(ROOT))
    print(f"{args.runs} interleaved runs each")
    print(f"validate {args.file}: median {cand.median * 1000:.0f} ms, best {cand.best * 1000:.0f} ms")
    print(f"baseline import pydantic, ruamel.yaml, jsonschema: median {base.median * 1000:.0f} ms, "
          f"best {base.best * 1000:.0f} ms")
    for label, ratio in (("median", cand.median / base.median), ("best", cand.best / base.best)):
        verdict = "ok" if ratio <= GOAL else "OVER GOAL"
        print(f"ratio ({label}): {ratio:.2f}x (goal <= {GOAL}x) {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
