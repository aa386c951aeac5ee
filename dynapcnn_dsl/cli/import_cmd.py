"""Write DIR/network.yaml and DIR/weights.safetensors from a model you already have.

SOURCE is a torch model `path/file.py:NAME` (NAME an nn.Module class constructible without
arguments, or a function returning a module, a sinabs DynapcnnNetwork included (its cores pinned
as its layer2core_map says): the file is imported, so ITS CODE RUNS, as with
`python file.py`; import only files you trust), a `.nir` file, or a configuration document
`.json` written by `build` (decompiled: `quantize: none`, the chip's integers, every core
pinned). The network's `weights:` prefixes are the model's own state_dict names, so later
checkpoints build with `dynapcnn-dsl build DIR/network.yaml checkpoint.pt`.

What the chip cannot compute is reported with the module and the reason (exit 1, nothing
written). The written network is then built like any other, and its diagnostics (memory,
placement) are reported: exit 1 when it does not fit the chip, the files being kept to edit.
"""

from __future__ import annotations

import argparse
import sys

NAME = "import"
HELP = "write network.yaml and its weights from a torch/sinabs model (runs its file), NIR or a document"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", metavar="SOURCE",
                   help="FILE.py:NAME (runs FILE.py), a .nir file, or a configuration .json")
    p.add_argument("-o", "--output", metavar="DIR", required=True,
                   help="folder for network.yaml, weights.safetensors and the schema")
    p.add_argument("--input-shape", metavar="C,H,W",
                   help="the model's input shape (not needed when the model has a DVSLayer)")
    p.add_argument("--weights", metavar="FILE", help="load this state_dict into the model first")
    p.add_argument("--key", metavar="KEY",
                   help="the key of the state_dict inside the checkpoint (dotted for nesting)")
    p.add_argument("--chip", default="speck2f", help="target chip (default: speck2f)")
    p.add_argument("--dvs", action="store_true",
                   help="the input is the chip's DVS sensor (default: events from the host)")
    p.add_argument("--force", action="store_true",
                   help="replace existing files in DIR (never an input of the import)")
    p.add_argument("--no-source", action="store_true", help="do not quote source lines")
    p.add_argument("--verbose", action="store_true",
                   help="with a model that cannot be traced, print torch's whole traceback too")


def parse_shape(text: str | None, parser: argparse.ArgumentParser) -> tuple[int, int, int] | None:
    if text is None:
        return None
    parts = text.replace("x", ",").split(",")
    if len(parts) != 3 or not all(p.strip().isdigit() and int(p) > 0 for p in parts):
        parser.error(f"--input-shape: '{text}' is not C,H,W (three positive integers)")
    from dynapcnn_dsl.chips import shared_limits

    limits = shared_limits()
    c, h, w = (int(p) for p in parts)
    if max(h, w) > limits.input_map or c > limits.features[1]:
        parser.error(f"--input-shape: {c},{h},{w} is larger than the chip's input (at most "
                     f"{limits.features[1]} channels of {limits.input_map} x {limits.input_map})")
    return c, h, w


def _usage_checks(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    from dynapcnn_dsl.chips import resolve_chip
    from dynapcnn_dsl.cli.common import check_files_exist
    from dynapcnn_dsl.filekinds import DOCUMENT, NIR, PYTHON, kinds

    chip = resolve_chip(args.chip)
    if chip is None:
        parser.error(f"--chip: unknown chip '{args.chip}'")
    args.chip = chip.id
    source = args.source
    path = source if kinds(source) & {DOCUMENT, NIR} else source.rpartition(":")[0]
    if not kinds(path) & {PYTHON, DOCUMENT, NIR}:
        parser.error(f"SOURCE '{source}' is none of FILE.py:NAME, FILE.nir, FILE.json")
    check_files_exist([path] + ([args.weights] if args.weights is not None else []), parser)
    from dynapcnn_dsl.importer import output_problems

    for problem in output_problems(args.output, [path] + ([args.weights] if args.weights else []),
                                   force=args.force):
        parser.error(problem)


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from dataclasses import replace

    from dynapcnn_dsl import importer
    from dynapcnn_dsl.report import reporter
    from dynapcnn_dsl.report.imports import ImportReport

    show = reporter("import")
    shape = parse_shape(args.input_shape, parser)
    _usage_checks(args, parser)
    imported = importer.import_source(args.source, input_shape=shape, weights=args.weights,
                                      key=args.key, chip=args.chip, dvs=args.dvs)
    if imported.trace and args.verbose:
        sys.stderr.write(imported.trace)
    report = ImportReport(args.source, imported)
    if not imported.ok:
        show(report, sys.stdout)
        return 1
    try:
        network, weights = importer.write(imported, args.output)
    except OSError as exc:
        show(report, sys.stdout)
        parser.error(f"cannot write {args.output}: {exc.strerror or exc}")
    built = importer.build_written(network, weights)
    linked = built.linked if built.ok else None
    show(replace(report, network=network, weights=weights, linked=linked, checked=built.diagnostics),
         sys.stdout)
    return 0 if linked is not None else 1
