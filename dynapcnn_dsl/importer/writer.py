"""Print a plan as a network file meant to be read, checked in and edited by hand.

The layout is fixed (the same model always gives the same bytes): the editor modeline, the
header comments, then `dsl`, `name`, `chip`, `quantize`, `input`, the cores in the model's
order and the readout. Each core's key carries a comment naming the model's modules it computes;
short mappings are written in flow style, as the examples and docs write them.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from dynapcnn_dsl.importer.plan import Dest, Plan, PlannedCore

MODELINE = "# yaml-language-server: $schema=network.schema.json"
PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
YAML_WORDS = {"true", "false", "null", "yes", "no", "on", "off", "~"}
"""Quoted although the loader reads YAML 1.2, for editors that still read 1.1 (`x`/`y` are the
language's own keys and stay plain)."""


def scalar(value: Any) -> str:
    """One YAML 1.2 scalar, quoted only when a plain one would mean something else."""
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
    return json.dumps(text)


def flow(value: Any) -> str:
    """A value on one line: `{a: 1, b: [2, 3]}`."""
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{scalar(k)}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    return scalar(value)


def _comment(line: str, note: str | None, width: int = 48) -> str:
    if not note:
        return line
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
        lines.append(f"    index: {core.index}")
    lines.append(f"    conv: {flow(core.conv)}")
    if core.weights != core.name:
        lines.append(f"    weights: {scalar(core.weights)}")
    if core.batchnorm is not None:
        bn: Any = core.batchnorm if core.batchnorm_eps is None else \
            {"weights": core.batchnorm, "eps": core.batchnorm_eps}
        lines.append(f"    batchnorm: {flow(bn)}")
    lines.append(_comment(f"    neuron: {flow(core.neuron)}", core.neuron_note))
    if core.merge is not None:
        lines.append(f"    merge: {core.merge}")
    if core.from_:
        lines.append(f"    from: {flow(list(core.from_))}")
    for key, value in core.extra.items():
        lines.append(f"    {key}: {flow(value)}")
    if core.monitor:
        lines.append("    monitor: true")
    if core.to:
        lines.append(f"    to: {flow([_dest(d) for d in core.to])}")
    return lines


def network_yaml(plan: Plan) -> str:
    """The network file's text."""
    lines = [MODELINE, *(f"# {h}" if h else "#" for h in plan.header), "dsl: 1"]
    if plan.name:
        lines.append(f"name: {scalar(plan.name)}")
    lines.append(f"chip: {plan.chip}")
    if plan.quantize != "auto":
        lines.append(f"quantize: {plan.quantize}")
    lines += ["", "input:"]
    for key, value in plan.input.items():
        lines.append(f"  {key}: {flow(value)}")
    lines += ["", "cores:"]
    for n, core in enumerate(plan.cores):
        if n:
            lines.append("")
        lines += _core(core)
    if plan.readout is not None:
        lines += ["", "readout:"] + [f"  {k}: {flow(v)}" for k, v in plan.readout.items()]
    return "\n".join(lines) + "\n"
