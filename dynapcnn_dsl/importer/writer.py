"""Print a plan as a network file meant to be read, checked in and edited by hand.

The layout is fixed (the same model always gives the same bytes): the editor modeline, the
header comments, then `dsl`, `name`, `chip`, `quantize`, `input`, the cores in the model's
order and the readout. Each core's key carries a comment naming the model's modules it computes;
short mappings are written in flow style, as the examples and docs write them.
"""

from __future__ import annotations

import io
import math
import re
import unicodedata
from collections.abc import Mapping
from functools import cache
from pathlib import PurePath
from typing import Any

import numpy as np

from dynapcnn_dsl.importer.plan import Dest, Plan, PlannedCore

MODELINE = "# yaml-language-server: $schema=network.schema.json"
PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
YAML_WORDS = {"true", "false", "null", "yes", "no", "on", "off", "~"}
"""Quoted although the loader reads YAML 1.2, for editors that still read 1.1 (`x`/`y` are the
language's own keys and stay plain)."""


@cache
def _emitter() -> Any:
    """ruamel.yaml's emitter for one double-quoted string: it escapes what a plain scalar
    cannot hold (newlines, quotes, `#`, `:`, control characters) and never folds a long line."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.default_style = '"'
    yaml.width = 1 << 30
    yaml.allow_unicode = False        # every character outside ASCII as an escape: nothing invisible
    return yaml


def plain(value: Any) -> Any:
    """The value as plain Python data: numpy scalars and arrays as Python numbers and lists
    (a numpy integer is a number, never the string "2"), tuples as lists, paths as strings."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Mapping):
        return {plain(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, PurePath):
        return str(value)
    return value


def scalar(value: Any) -> str:
    """One YAML 1.2 scalar, quoted only when a plain one would mean something else; a quoted
    one is written by ruamel.yaml, so a name that holds a newline, quotes or `#` stays one
    string, never text that the file then reads as keys or comments."""
    value = plain(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot write {value} in a network file")
        return repr(value)
    text = str(value)
    if PLAIN.match(text) and text.lower() not in YAML_WORDS:
        return text
    out = io.StringIO()
    _emitter().dump(text, out)
    return out.getvalue().rstrip("\n")      # a double-quoted scalar: no document end marker


def flow(value: Any) -> str:
    """A value on one line: `{a: 1, b: [2, 3]}`."""
    value = plain(value)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{scalar(k)}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    return scalar(value)


def comment_text(note: str) -> str:
    """A comment's text on one line: control characters and line breaks (which would end the
    comment and start keys) written as escapes, `\\n`, `\\x1b`, `\\u2028`."""
    return "".join(c.encode("unicode_escape").decode("ascii")
                   if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in note)


def _comment(line: str, note: str | None, width: int = 48) -> str:
    if not note:
        return line
    note = comment_text(note)
    return f"{line.ljust(width)}  # {note}" if len(line) < width else f"{line}  # {note}"


def _dest(d: Dest) -> Any:
    if d.pool == 1 and not d.average and d.feature_shift is None:
        return d.core
    long: dict[str, Any] = {"core": d.core}
    if d.pool != 1:
        long["pool"] = d.pool
    if d.average:
        long["average"] = True
    if d.feature_shift is not None:
        long["feature_shift"] = d.feature_shift
    return long


def _core(core: PlannedCore) -> list[str]:
    lines = [_comment(f"  {scalar(core.name)}:", ", ".join(core.modules) or None)]
    if core.index is not None:
        lines.append(f"    index: {scalar(core.index)}")
    lines.append(f"    conv: {flow(core.conv)}")
    if core.weights != core.name:
        lines.append(f"    weights: {scalar(core.weights)}")
    if core.batchnorm is not None:
        bn: Any = core.batchnorm if core.batchnorm_eps is None else \
            {"weights": core.batchnorm, "eps": core.batchnorm_eps}
        lines.append(f"    batchnorm: {flow(bn)}")
    lines.append(_comment(f"    neuron: {flow(core.neuron)}", core.neuron_note))
    if core.merge is not None:
        lines.append(f"    merge: {scalar(core.merge)}")
    if core.from_:
        lines.append(f"    from: {flow(list(core.from_))}")
    for key, value in core.extra.items():
        lines.append(f"    {scalar(key)}: {flow(value)}")
    if core.monitor:
        lines.append("    monitor: true")
    if core.to:
        lines.append(f"    to: {flow([_dest(d) for d in core.to])}")
    return lines


def network_yaml(plan: Plan) -> str:
    """The network file's text."""
    lines = [MODELINE, *(f"# {comment_text(h)}" if h else "#" for h in plan.header), "dsl: 1"]
    if plan.name:
        lines.append(f"name: {scalar(plan.name)}")
    lines.append(f"chip: {scalar(plan.chip)}")
    if plan.quantize != "auto":
        lines.append(f"quantize: {scalar(plan.quantize)}")
    lines += ["", "input:"]
    for key, value in plan.input.items():
        lines.append(f"  {scalar(key)}: {flow(value)}")
    lines += ["", "cores:"]
    for n, core in enumerate(plan.cores):
        if n:
            lines.append("")
        lines += _core(core)
    if plan.readout is not None:
        lines += ["", "readout:"] + [f"  {scalar(k)}: {flow(v)}" for k, v in plan.readout.items()]
    return "\n".join(lines) + "\n"
