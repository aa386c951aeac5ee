"""Whole-process time of `dynapcnn-dsl validate` against importing its three main libraries.

Goal (issue 2): validate on an example takes at most 1.6x the time of
`python -c "import pydantic, ruamel.yaml, jsonschema"`, both measured in this run.

A third figure, the *floor*, is the smallest program that does what validate cannot avoid:
import pydantic's BaseModel and ruamel.yaml, define one model and validate one value. It shows
how much of validate's time is the tool itself and how much is its two core libraries.

    python benchmarks/validate_startup.py [--runs N] [FILE]
"""

from __future__ import annotations

import argparse
import compileall
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import compare

ROOT = Path(__file__).resolve().parents[1]
GOAL = 1.6
FLOOR = (
    "from pydantic import BaseModel, Field; import ruamel.yaml\n"
    "class A(BaseModel):\n    a: int = Field(default=1, description='x')\n"
    "A.model_validate({'a': 2})"
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", default="examples/dvs-speck2f/network.yaml")
    parser.add_argument("--runs", type=int, default=31)
    args = parser.parse_args()
    script = Path(sys.executable).with_name("dynapcnn-dsl")
    validate = [str(script), "validate", args.file]
    baseline = [sys.executable, "-c", "import pydantic, ruamel.yaml, jsonschema"]
    # Measure the tool as installed: pip byte-compiles an installed package, but an editable
    # install under PYTHONDONTWRITEBYTECODE=1 would recompile every module on every start.
    compileall.compile_dir(str(ROOT / "dynapcnn_dsl"), quiet=1)
    floor = [sys.executable, "-c", FLOOR]
    cand, base = compare(validate, baseline, runs=args.runs, cwd=str(ROOT))
    low, base2 = compare(floor, baseline, runs=max(args.runs // 3, 5), cwd=str(ROOT))
    print(f"{args.runs} interleaved runs each")
    print(f"validate {args.file}: median {cand.median * 1000:.0f} ms, best {cand.best * 1000:.0f} ms")
    print(f"baseline import pydantic, ruamel.yaml, jsonschema: median {base.median * 1000:.0f} ms, "
          f"best {base.best * 1000:.0f} ms")
    for label, ratio in (("median", cand.median / base.median), ("best", cand.best / base.best)):
        verdict = "ok" if ratio <= GOAL else "OVER GOAL"
        print(f"ratio ({label}): {ratio:.2f}x (goal <= {GOAL}x) {verdict}")
    print(f"floor (BaseModel + ruamel.yaml + one validation): {low.median / base2.median:.2f}x "
          f"the baseline (median); validate's own share: "
          f"{(cand.median - low.median * base.median / base2.median) * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
