"""`diff --format json-patch` against the plain text `diff` of the same pair (issue 9, class 11).

Two builds of the network that fills every core's kernel memory, the second with retrained
weights (every tensor changed), written as documents. Both commands run in-process through the
CLI's own entry point, output discarded: each reads and checks both documents, then compares.
The goal: the JSON patch (one `replace` per changed tensor, found with numpy) costs at most
twice the text diff.

    python benchmarks/diff.py [--runs N]
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import io
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from _timing import in_process, random_weights  # noqa: E402

NETWORK = ROOT / "benchmarks" / "networks" / "kernel-full.yaml"
GOAL = 2.0


def main() -> int:
    from safetensors.numpy import save_file

    import dynapcnn_dsl
    from dynapcnn_dsl.cli import main as cli
    from dynapcnn_dsl.pipeline import run_file

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    compileall.compile_dir(str(ROOT / "dynapcnn_dsl"), quiet=1)

    linked = run_file(NETWORK).linked
    with tempfile.TemporaryDirectory() as tmp:
        docs = []
        for seed in (0, 1):   # the second: retrained, every weight different
            weights = Path(tmp) / f"w{seed}.safetensors"
            save_file(random_weights(linked, seed=seed), str(weights))
            doc = Path(tmp) / f"doc{seed}.json"
            dynapcnn_dsl.build(NETWORK, weights).write(doc)
            docs.append(str(doc))
        sizes = {}

        def run(*extra: str):
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                try:
                    cli(["diff", *extra, *docs])
                except SystemExit as exc:
                    assert exc.code == 1, exc.code   # the documents differ
            sizes[extra] = len(out.getvalue())

        run()
        run("--format", "json-patch")
        text, patch = (in_process(lambda e=e: run(*e), args.runs) for e in ((), ("--format", "json-patch")))
    ratio = patch.median / text.median
    print(f"{NETWORK.name}: two full-chip documents, every tensor retrained; {args.runs} runs, in-process")
    print(f"diff (text):       median {text.median:.0f} ms (best {text.best:.0f}), "
          f"{sizes[()] / 1024:.0f} KiB out")
    print(f"diff (json-patch): median {patch.median:.0f} ms (best {patch.best:.0f}), "
          f"{sizes[('--format', 'json-patch')] / 1024:.0f} KiB out")
    print(f"ratio json-patch / text: {ratio:.2f}x (goal: at most {GOAL:.0f}x) "
          f"{'ok' if ratio <= GOAL else 'OVER GOAL'}")
    return 0 if ratio <= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
