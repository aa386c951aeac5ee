"""A labelled dataset: which recordings, with which label.

Two layouts of a folder (docs/evaluate.md): one subfolder per label holding one event file per
recording (the label is the subfolder's name), or recordings anywhere below the folder plus a
`labels.csv` with rows `file,label` (paths relative to the folder, `/` separated). From Python,
any sequence of (events, label) pairs is a dataset too (a tonic dataset object is one).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dynapcnn_dsl.diagnostics import DslError, error
from dynapcnn_dsl.filekinds import EVENTS, kinds, suffixes

MAX_RECORDINGS = 10_000_000


@dataclass(frozen=True)
class Recording:
    """One recording: `file` names it in the results (relative to the dataset, `/` separated,
    or `#<index>` for an in-memory dataset); `source` is its path or its events."""

    file: str
    label: str
    source: Any


class DatasetError(DslError):
    """The dataset cannot be read, or holds nothing to evaluate; `diagnostics` says why."""


def _from_labels_csv(folder: Path, table: Path) -> list[Recording]:
    try:
        with table.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DatasetError(error(str(table), "evaluate-dataset", f"cannot read the labels: {exc}")) from None
    if rows and [c.strip().lower() for c in rows[0]] == ["file", "label"]:
        rows = rows[1:]
    out = []
    for line, row in enumerate(rows, start=1):
        if not row or not "".join(row).strip():
            continue
        if len(row) != 2 or not row[0].strip() or not row[1].strip():
            raise DatasetError(error(
                str(table), "evaluate-dataset", f"row {line}: expected `file,label`, found {row}"))
        name = row[0].strip().replace("\\", "/")
        path = folder / name
        out.append(Recording(name, row[1].strip(), path))
    return out


def read_dataset(folder: str | Path) -> list[Recording]:
    """The recordings of a dataset folder, in a stable order; DatasetError when it has none or
    no labels."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(error(
            str(folder), "evaluate-dataset", "is not a folder",
            "give a folder with one subfolder per label, or recordings and a labels.csv"))
    table = folder / "labels.csv"
    if table.is_file():
        recordings = _from_labels_csv(folder, table)
    else:
        recordings = []
        for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
            for path in sorted(sub.rglob("*")):
                if path.is_file() and EVENTS in kinds(path):   # what `simulate --events` reads
                    recordings.append(Recording(path.relative_to(folder).as_posix(), sub.name, path))
                if len(recordings) > MAX_RECORDINGS:
                    raise DatasetError(error(
                        str(folder), "evaluate-dataset", f"more than {MAX_RECORDINGS} recordings"))
        if not recordings:
            loose = [p for p in folder.iterdir() if p.is_file() and EVENTS in kinds(p)]
            if loose:
                raise DatasetError(error(str(folder), "evaluate-dataset-labels",
                                         f"{len(loose)} recordings but no labels",
                                         "put each recording in a subfolder named by its label, or add a "
                                         "labels.csv with rows file,label"))
    if not recordings:
        raise DatasetError(error(
            str(folder), "evaluate-dataset-empty", "the dataset holds no recordings",
            f"event files ({', '.join(suffixes(EVENTS))}) in one subfolder per label, or a labels.csv"))
    return recordings


def from_pairs(dataset: Any) -> list[Recording]:
    """An in-memory dataset: a sequence of (events, label) pairs (a tonic dataset yields
    (events, target) too). Events are read lazily by the worker: here only the labels."""
    out = []
    try:
        count = len(dataset)
    except TypeError:
        dataset = list(dataset)
        count = len(dataset)
    for i in range(count):
        item = dataset[i]
        if not isinstance(item, tuple | list) or len(item) < 2:
            raise DatasetError(error(
                "<dataset>", "evaluate-dataset", f"item {i} is not an (events, label) pair"))
        events, label = item[0], item[1]
        out.append(Recording(f"#{i}", str(label.item() if hasattr(label, "item") else label), events))
    if not out:
        raise DatasetError(error("<dataset>", "evaluate-dataset-empty", "the dataset holds no recordings"))
    return out
