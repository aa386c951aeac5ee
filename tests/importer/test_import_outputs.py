"""`import -o DIR` obeys build's output rules (issue 19): never over an input, never through a
symbolic link out of DIR, nothing existing replaced without --force; and its three files change
as one unit, so an import interrupted by a failure or a SIGTERM leaves the old set or the new set,
never a network beside another network's weights."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import cli

from dynapcnn_dsl import atomic

ROOT = Path(__file__).resolve().parents[2]
ZOO = Path(__file__).with_name("zoo.py")
GOLDEN = ROOT / "tests" / "golden"
FILES = ("network.yaml", "weights.safetensors", "network.schema.json")


def contents(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in FILES if (folder / name).exists()}


@pytest.fixture
def imported(tmp_path, capsys) -> Path:
    """DIR holding the three files of an import of the host-sequential document."""
    out = tmp_path / "proj"
    code, text = cli(capsys, "import", str(GOLDEN / "host-sequential.samna.json"), "-o", str(out))
    assert code == 0, text
    return out


def test_the_checkpoint_read_is_never_the_weights_written(capsys, tmp_path):
    proj = tmp_path / "proj"
    proj.mkdir()
    checkpoint = proj / "weights.safetensors"
    checkpoint.write_bytes(b"the user's only checkpoint")
    for force in ((), ("--force",)):
        code, text = cli(capsys, "import", f"{ZOO}:SumPoolChain", "--input-shape", "2,16,16",
                         "--weights", str(checkpoint), "-o", str(proj), *force)
        assert code == 2
        assert f"{checkpoint} is the input {checkpoint}: import would replace it" in text
    assert checkpoint.read_bytes() == b"the user's only checkpoint"


@pytest.mark.parametrize("existing", FILES)
def test_no_existing_file_is_replaced_without_force(capsys, tmp_path, existing):
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / existing).write_text("mine", encoding="utf-8")
    code, text = cli(capsys, "import", str(GOLDEN / "concat.samna.json"), "-o", str(proj))
    assert code == 2 and f"{proj / existing} exists: choose another -o DIR, or --force" in text
    assert contents(proj) == {existing: b"mine"}
    code, text = cli(capsys, "import", str(GOLDEN / "concat.samna.json"), "-o", str(proj), "--force")
    assert code == 0, text
    assert set(contents(proj)) == set(FILES)


def test_a_symbolic_link_out_of_dir_is_never_written_through(capsys, tmp_path):
    proj = tmp_path / "proj"
    proj.mkdir()
    outside = tmp_path / "precious.safetensors"
    outside.write_bytes(b"outside DIR")
    (proj / "weights.safetensors").symlink_to(outside)
    code, text = cli(capsys, "import", str(GOLDEN / "concat.samna.json"), "-o", str(proj))
    assert code == 2
    assert (f"{proj / 'weights.safetensors'} is a symbolic link to {outside}, outside {proj}: import "
            "never writes through it") in text
    code, text = cli(capsys, "import", str(GOLDEN / "concat.samna.json"), "-o", str(proj), "--force")
    assert code == 0, text
    assert outside.read_bytes() == b"outside DIR"              # the link was replaced, not followed
    assert not (proj / "weights.safetensors").is_symlink()


def test_a_failure_between_the_renames_leaves_the_old_files(capsys, imported, monkeypatch):
    old = contents(imported)
    real = os.replace
    calls = []

    def failing(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real(src, dst)

    monkeypatch.setattr(atomic.os, "replace", failing)
    code, text = cli(capsys, "import", str(GOLDEN / "concat.samna.json"), "-o", str(imported), "--force")
    monkeypatch.undo()
    assert code == 2 and "No space left on device" in text
    assert contents(imported) == old
    assert sorted(p.name for p in imported.iterdir()) == sorted(FILES)    # no temporary left


SIGTERM_AFTER_FIRST_RENAME = """
import os, signal, sys
from dynapcnn_dsl import atomic
from dynapcnn_dsl.cli import main
real = os.replace
def replace(src, dst):
    real(src, dst)
    os.kill(os.getpid(), signal.SIGTERM)      # between the first file and the others
atomic.os.replace = replace
main(sys.argv[1:])
"""


def test_a_sigterm_between_the_writes_leaves_a_whole_set(capsys, imported, tmp_path):
    """The signal is held back while the files are renamed into place: the run ends as
    terminated, with the new set complete (never the new weights beside the old network)."""
    fresh = tmp_path / "fresh"
    code, _ = cli(capsys, "import", str(GOLDEN / "concat.samna.json"), "-o", str(fresh))
    assert code == 0
    old, new = contents(imported), contents(fresh)
    done = subprocess.run([sys.executable, "-c", SIGTERM_AFTER_FIRST_RENAME, "import",
                           str(GOLDEN / "concat.samna.json"), "-o", str(imported), "--force"],
                          cwd=ROOT, capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert "Traceback" not in done.stderr
    assert done.returncode == 128 + 15, done.stderr                    # ended by the SIGTERM
    got = contents(imported)
    assert got in (old, new), {k: got[k] == new[k] for k in got}
    assert got == new
    assert sorted(p.name for p in imported.iterdir()) == sorted(FILES)


@pytest.mark.parametrize(("shape", "ok"), [("2,128,128", True), ("2,129,128", False), ("2,128,129", False),
                                           ("1024,16,16", True), ("1025,16,16", False),
                                           ("1024,1024,1024", False)])
def test_the_input_shape_is_checked_against_the_chip(capsys, tmp_path, shape, ok):
    code, text = cli(capsys, "import", f"{ZOO}:SumPoolChain", "--input-shape", shape, "--weights",
                     str(tmp_path / "missing.pt"), "-o", str(tmp_path / "o"))
    assert code == 2
    assert ("is larger than the chip's input (at most 1024 channels of 128 x 128)" in text) is not ok
