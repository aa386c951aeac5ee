"""`dynapcnn_dsl.filekinds`: one table from a file's suffix to the kinds of file it may be, and
the places that guess agreeing with it."""

from __future__ import annotations

from pathlib import Path

import pytest

from dynapcnn_dsl.filekinds import DOCUMENT, EVENTS, KINDS, NETWORK, NIR, PYTHON, WEIGHTS, kinds, suffixes


def test_a_suffix_gives_every_kind_it_may_be():
    assert kinds("net.json") == {NETWORK, DOCUMENT}
    assert kinds("w.npz") == {WEIGHTS, EVENTS}
    assert kinds(Path("model.nir")) == {NIR}
    assert kinds("dir.v2/model.py") == {PYTHON}


def test_the_suffix_is_read_case_insensitively_and_an_unknown_one_is_no_kind():
    assert kinds("NET.YAML") == kinds("net.yaml")
    assert kinds("notes.txt") == kinds("Makefile") == kinds("archive.json.gz") == frozenset()


def test_suffixes_of_a_kind():
    assert suffixes(WEIGHTS) == (".pt", ".pth", ".safetensors", ".npz")
    assert suffixes(EVENTS) == (".npz", ".npy", ".aedat4", ".aedat", ".bin")
    assert all(s == s.lower() and s.startswith(".") for s in KINDS)


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
