"""`dynapcnn_dsl.filekinds`: one table from a file's suffix to the kinds of file it may be, and
the places that guess agreeing with it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from dynapcnn_dsl.filekinds import (
    AEDAT,
    DOCUMENT,
    EVENTS,
    JSON,
    KINDS,
    NETWORK,
    NIR,
    NUMPY,
    PLOT,
    PYTHON,
    TEMPLATE,
    WEIGHTS,
    kinds,
    suffix,
    suffixes,
)

PACKAGE = Path(__file__).resolve().parents[2] / "dynapcnn_dsl"


def test_a_suffix_gives_every_kind_it_may_be():
    assert kinds("net.json") == {NETWORK, DOCUMENT, JSON}
    assert kinds("w.npz") == {WEIGHTS, EVENTS, NUMPY}
    assert kinds("rec.aedat4") == {EVENTS, AEDAT}
    assert kinds("report.HTML") == kinds("report.html") and PLOT in kinds("report.png")
    assert kinds(Path("model.nir")) == {NIR}
    assert kinds("dir.v2/model.py") == {PYTHON}


def test_the_suffix_is_read_case_insensitively_and_an_unknown_one_is_no_kind():
    assert kinds("NET.YAML") == kinds("net.yaml")
    assert kinds("notes.txt") == kinds("Makefile") == kinds("archive.json.gz") == frozenset()


def test_suffixes_of_a_kind():
    assert suffixes(WEIGHTS) == (".pt", ".pth", ".safetensors", ".npz")
    assert suffixes(EVENTS) == (".npy", ".npz", ".aedat4", ".aedat", ".bin")
    assert suffixes(TEMPLATE) == (".yaml", ".yml") and suffixes(PLOT) == (".png", ".html")
    assert all(s == s.lower() and s.startswith(".") for s in KINDS)
    assert suffix("a/B.Tar.GZ") == ".gz" and suffix("a.") == suffix(".yaml") == suffix("Makefile") == ""


# -- no other module compares suffixes -----------------------------------------------------------

ELSEWHERE = {
    ("weights/readers.py", ".npy"): "the names of the members inside a zip archive, not files",
    ("simulator/events.py", ".npy"): "the names of the arrays inside an .npz archive, not files",
}
"""(module, suffix) pairs that compare a name's end for another reason, and why."""


def suffix_tests(path: Path) -> list[tuple[int, str]]:
    """(line, what) for every `.suffix` read and every known suffix a module compares a name
    with: `x.endswith(".npz")`, `x.removesuffix(...)`, `s == ".png"`, `s in (".npy", ...)`."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr == "suffix":
            found.append((node.lineno, ".suffix"))
            continue
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in (
                "endswith", "removesuffix"):
            compared = node.args
        elif isinstance(node, ast.Compare):
            compared = [node.left, *node.comparators]
        else:
            continue
        for part in compared:
            for leaf in ast.walk(part):
                if isinstance(leaf, ast.Constant) and isinstance(leaf.value, str) and any(
                        leaf.value.lower().endswith(s) for s in KINDS):
                    found.append((node.lineno, leaf.value))
    return found


def test_no_module_but_filekinds_compares_suffixes():
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = path.relative_to(PACKAGE).as_posix()
        if name == "filekinds.py":
            continue
        hits = [f"line {line}: {what}" for line, what in suffix_tests(path) if (name, what) not in ELSEWHERE]
        if hits:
            found[name] = hits
    assert found == {}, "ask dynapcnn_dsl.filekinds what a file is (kinds(path)), not its suffix"


def test_the_guard_sees_each_way_of_comparing_a_suffix(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("a = p.suffix\nb = n.endswith('.npz')\nc = s == '.png'\nd = s in ('.npy', '.x')\n"
                     "e = n.removesuffix('.json')\nf = n.endswith('data.pkl')\n")
    assert [line for line, _ in suffix_tests(probe)] == [1, 2, 3, 4, 5]


# -- the places that guess ---------------------------------------------------------------------

def test_a_document_is_a_json_file_with_the_header(tmp_path):
    from dynapcnn_dsl.config.files import is_document_file

    header = '{"format": "dynapcnn-dsl/samna-configuration"}'
    for name in ("config.json", "CONFIG.JSON", "config.yaml"):
        (tmp_path / name).write_text(header)
        assert is_document_file(tmp_path / name) == (DOCUMENT in kinds(name)), name


@pytest.mark.parametrize("suffix", sorted({*suffixes(EVENTS), ".csv", ".txt"}))
def test_the_events_reader_takes_the_events_suffixes(tmp_path, suffix):
    from dynapcnn_dsl.simulator import EventsError, read_events

    path = tmp_path / f"events{suffix}"
    path.write_bytes(b"not events!")   # 11 bytes: not whole 5-byte N-MNIST events either
    with pytest.raises(EventsError) as exc:
        read_events(path)
    unknown = exc.value.diagnostics[0].message.startswith("unknown events format")
    assert unknown == (EVENTS not in kinds(path))


@pytest.mark.parametrize("source", ["model.txt", "model.txt:Net", "model.npz", "MODEL.NIR", "net.JSON",
                                    "model.py:Net"])
def test_import_takes_python_nir_and_documents(source, tmp_path, monkeypatch, capsys):
    from dynapcnn_dsl.cli import run

    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:   # argparse's usage error
        run(["import", source, "-o", "out"])
    usage = "is none of FILE.py:NAME, FILE.nir, FILE.json" in capsys.readouterr().err
    path = source if kinds(source) & {NIR, DOCUMENT} else source.rpartition(":")[0]
    assert usage == (not kinds(path) & {PYTHON, NIR, DOCUMENT}), source
    assert exc.value.code == 2     # a usage error either way: else the file does not exist


def test_the_dataset_takes_the_events_files_and_names_them_when_it_finds_none(tmp_path):
    from dynapcnn_dsl.evaluation.runner import EvaluationError, recordings_of

    for name in ("a.npy", "b.NPZ", "c.aedat4", "d.txt", "e.json"):
        (tmp_path / "ds" / "0").mkdir(parents=True, exist_ok=True)
        (tmp_path / "ds" / "0" / name).write_bytes(b"")
    assert sorted(r.file for r in recordings_of(tmp_path / "ds")) == ["0/a.npy", "0/b.NPZ", "0/c.aedat4"]
    (tmp_path / "empty").mkdir()
    with pytest.raises(EvaluationError) as exc:
        recordings_of(tmp_path / "empty")
    assert exc.value.diagnostics[0].hint.startswith("event files (.npy, .npz, .aedat4, .aedat, .bin) in one")


def test_a_network_in_a_json_file_is_parsed_as_json(tmp_path):
    from dynapcnn_dsl.load.reader import load_text

    text = '{"dsl": 1, "chip": "speck2f",}'
    for name in ("net.json", "NET.JSON", "net.yaml"):
        _, problems = load_text(text, name)
        assert any(p.code == "json-syntax" for p in problems) == (JSON in kinds(name)), name


def test_a_damaged_zip_is_explained_by_the_reader_its_suffix_names(tmp_path):
    from dynapcnn_dsl.weights.readers import detect

    for name in ("w.npz", "w.pt", "w.NPZ"):
        path = tmp_path / name
        path.write_bytes(b"PK\x03\x04" + b"\0" * 40)
        assert detect(path) == ("npz" if NUMPY in kinds(name) else "torch"), name


def test_the_plot_is_a_png_or_a_page_by_its_suffix(tmp_path):
    pytest.importorskip("matplotlib")
    from dynapcnn_dsl.evaluation.plot import report
    from dynapcnn_dsl.evaluation.result import Evaluation
    from dynapcnn_dsl.evaluation.worker import Row

    rows = [Row("0/a.npy", "0", 1, 10, 0.1, 1000, {"c": 3}, "", None)]
    e = Evaluation.of(rows, False, 0.5, ("c",), ("0", "1"))
    assert report(e, tmp_path / "r.PNG").startswith(b"\x89PNG")
    assert report(e, tmp_path / "r.html").startswith(b"<!doctype html>")


def test_a_python_model_is_named_by_its_suffix(tmp_path):
    torch = pytest.importorskip("torch")
    from dynapcnn_dsl.importer.from_torch import ImportFailure
    from dynapcnn_dsl.importer.model_file import load_module

    for name in ("m.txt", "m.py", "M.PY"):
        (tmp_path / name).write_text("import torch\nNet = torch.nn.Identity\n")
        spec = f"{tmp_path / name}:Net"
        if PYTHON in kinds(name):
            assert isinstance(load_module(spec), torch.nn.Identity), name
        else:
            with pytest.raises(ImportFailure, match=r"is not FILE\.py:NAME"):
                load_module(spec)
