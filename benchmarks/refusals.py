"""Refusing hostile files costs no more than reading a small valid one (issue 9; these were two
wall-clock assertions in tests/acceptance/test_corpus.py, which assert behaviour only now).

1. A file over the size limit is refused from its size, without reading it.
2. The billion-laughs YAML (nested aliases) is refused without expanding it.
The baseline, measured in the same run, is the whole pipeline up to the linked network on a
small valid example; the ratios say what a refusal costs next to it (goal: at most 1x).

    python benchmarks/refusals.py [--runs N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from _timing import in_process  # noqa: E402

SMALL = ROOT / "examples" / "host-sequential" / "network.yaml"
LAUGHS = ROOT / "tests" / "corpus" / "invalid" / "yaml-alias-billion-laughs.yaml"


def main() -> int:
    from dynapcnn_dsl.load import MAX_BYTES
    from dynapcnn_dsl.pipeline import run_file

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "big.yaml"
        big.write_bytes(b"#" * (MAX_BYTES + 1))
        assert [d.code for d in run_file(big).diagnostics] == ["file-too-large"]
        assert {d.code for d in run_file(LAUGHS).diagnostics} == {"yaml-alias"}
        assert run_file(SMALL).ok
        base = in_process(lambda: run_file(SMALL), args.runs).median
        too_large = in_process(lambda: run_file(big), args.runs).median
        laughs = in_process(lambda: run_file(LAUGHS), args.runs).median
    print(f"{args.runs} runs each; baseline: {SMALL.relative_to(ROOT)} to the linked network, "
          f"median {base:.2f} ms")
    for label, ms in (("file over the size limit", too_large), ("billion laughs", laughs)):
        ratio = ms / base
        print(f"{label}: median {ms:.2f} ms, {ratio:.2f}x the baseline (goal <= 1x) "
              f"{'ok' if ratio <= 1 else 'OVER GOAL'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
