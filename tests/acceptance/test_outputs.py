"""Outputs never destroy what they should not (issue 9, class 4), and signals end a run cleanly
(class 8): an output naming an input is refused, a device or a pipe is written into (never
replaced by a regular file), SIGTERM during a write leaves no temporary file, an unwritable
place is a usage error, and `new` refuses names it cannot use and keeps an existing schema."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from helpers import CHAIN, write_weights

from dynapcnn_dsl.cli import run

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def pair(tmp_path) -> tuple[Path, Path]:
    net = tmp_path / "net.yaml"
    net.write_text(CHAIN, encoding="utf-8")
    weights = tmp_path / "w.npz"
    write_weights(net, weights)
    return net, weights


def usage_error(capsys, *argv: str | Path) -> str:
    with pytest.raises(SystemExit) as exc:
        run([str(a) for a in argv])
    assert exc.value.code == 2
    return capsys.readouterr().err


# ----------------------------------------------------------------------- an output names an input
@pytest.mark.parametrize("which", ["network", "weights", "hard link", "symbolic link"])
def test_build_refuses_an_output_that_names_an_input(pair, which, capsys, tmp_path):
    net, weights = pair
    before = net.read_bytes(), weights.read_bytes()
    out = {"network": net, "weights": weights, "hard link": tmp_path / "hard.json",
           "symbolic link": tmp_path / "sym.json"}[which]
    if which == "hard link":
        os.link(net, out)
    elif which == "symbolic link":
        out.symlink_to(weights)
    err = usage_error(capsys, "build", net, weights, "-o", out)
    assert "would overwrite the input" in err and "nothing was written" in err
    assert (net.read_bytes(), weights.read_bytes()) == before


TEMPLATED = """\
dsl: 1
chip: speck2f
input: {source: host, shape: [2, 16, 16], to: [block]}
cores:
  block:
    template: block
    with: {channels: 2}
"""
BLOCK = (ROOT / "templates" / "residual_block.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize("command", ["build", "simulate"])
def test_an_output_never_replaces_a_template_the_network_read(command, tmp_path, capsys):
    """The template files an instance expanded are inputs too (issue 19): build -o and
    simulate -o onto one are refused before anything is written."""
    net = tmp_path / "net.yaml"
    net.write_text(TEMPLATED, encoding="utf-8")
    template = tmp_path / "block.yaml"
    template.write_text(BLOCK, encoding="utf-8")
    weights = tmp_path / "w.npz"
    write_weights(net, weights)
    argv: list[str | Path] = ["build", net, weights, "-o", template]
    if command == "simulate":
        import numpy as np

        events = tmp_path / "e.npy"
        ev = np.zeros(3, [("t", "<i8"), ("x", "<i2"), ("y", "<i2"), ("p", "<i1")])
        ev["t"] = [0, 1, 2]
        np.save(events, ev)
        argv = ["simulate", net, weights, "--events", events, "-o", template]
    err = usage_error(capsys, *argv)
    assert f"would overwrite the input {template}" in err and "nothing was written" in err
    assert template.read_text(encoding="utf-8") == BLOCK


def test_graph_refuses_a_prefix_whose_output_is_the_network(tmp_path, capsys):
    net = tmp_path / "net.dot"
    net.write_text(CHAIN, encoding="utf-8")
    assert "would overwrite the input" in usage_error(capsys, "graph", net, "-o", tmp_path / "net")
    assert net.read_text(encoding="utf-8") == CHAIN


# ------------------------------------------------------------------------ devices, pipes, links
def test_build_into_a_device_keeps_the_device(pair, capsys):
    net, weights = pair
    before = os.stat("/dev/null")
    if not stat.S_ISCHR(before.st_mode):
        pytest.skip("/dev/null is not a device here (something replaced it)")
    assert run(["build", str(net), str(weights), "-o", "/dev/null", "--quiet"]) == 0
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino


def test_build_into_a_fifo_writes_into_it(pair, tmp_path):
    net, weights = pair
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    assert run(["build", str(net), str(weights), "-o", str(fifo), "--quiet"]) == 0
    reader.join(10)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert got and got[0].startswith(b"{")


def test_build_through_a_symbolic_link_replaces_the_file_and_keeps_the_link(pair, tmp_path):
    net, weights = pair
    real = tmp_path / "real.json"
    real.write_text("old", encoding="utf-8")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    assert run(["build", str(net), str(weights), "-o", str(link), "--quiet"]) == 0
    assert link.is_symlink() and real.read_text(encoding="utf-8").startswith("{")


def test_build_to_dev_stdout_writes_into_the_pipe(pair):
    net, weights = pair
    proc = subprocess.run([sys.executable, "-m", "dynapcnn_dsl", "build", str(net), str(weights),
                           "-o", "/dev/stdout", "--quiet"], capture_output=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(b"{")


# ------------------------------------------------------------------------------------- signals
SIGNAL_PROBE = """
import os, signal, sys
from dynapcnn_dsl import cli
{patch}
cli.main({argv!r})
"""


def probe(patch: str, argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", SIGNAL_PROBE.format(patch=patch, argv=argv)],
                          capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_sigterm_while_writing_leaves_no_temporary_file(pair):
    net, weights = pair
    out = net.with_name("out.json")
    out.write_text("old", encoding="utf-8")
    patch = "os.fsync = lambda fd: os.kill(os.getpid(), signal.SIGTERM)"
    proc = probe(patch, ["build", str(net), str(weights), "-o", str(out), "--quiet"], net.parent)
    assert proc.returncode == 128 + 15, proc.stderr
    assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr
    assert out.read_text(encoding="utf-8") == "old"
    assert not list(net.parent.glob("*.tmp")) and not list(net.parent.glob(".*.tmp"))


@pytest.mark.parametrize("swallowed", [False, True])
def test_sigint_during_start_up_exits_130_quietly(swallowed, tmp_path):
    """An interrupt in the middle of importing, also one a library swallows so that the import
    fails later with another error, ends the run with 130 and no internal error."""
    interrupt = "os.kill(os.getpid(), signal.SIGINT)"
    body = (f"try:\n        {interrupt}\n    except BaseException:\n        pass\n"
            "    raise ImportError('partially initialized module')") if swallowed else interrupt
    patch = f"def run(argv):\n    {body}\ncli.run = run"
    proc = probe(patch, ["validate", "x.yaml"], tmp_path)
    assert proc.returncode == 130, proc.stderr
    assert proc.stderr == "interrupted\n"


# --------------------------------------------------------------------------- unwritable places
@pytest.mark.parametrize("where", ["missing/dir/g", "file/g"])
def test_graph_into_an_unwritable_place_is_a_usage_error(where, tmp_path, capsys):
    net = tmp_path / "net.yaml"
    net.write_text(CHAIN, encoding="utf-8")
    (tmp_path / "file").write_text("", encoding="utf-8")
    err = usage_error(capsys, "graph", net, "-o", tmp_path / where)
    assert "cannot write" in err


@pytest.mark.parametrize("name", ["", "   ", "x" * 300, "odd\x1b[2Jname", "new\nline"])
def test_new_refuses_a_name_it_cannot_use(name, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    err = usage_error(capsys, "new", name)
    assert "nothing was written" in err and "\x1b" not in err
    assert list(tmp_path.iterdir()) == []


def test_new_keeps_an_existing_schema_file(tmp_path, capsys):
    folder = tmp_path / "net"
    folder.mkdir()
    (folder / "network.schema.json").write_text("mine", encoding="utf-8")
    assert run(["new", str(folder)]) == 0
    assert (folder / "network.schema.json").read_text(encoding="utf-8") == "mine"
    assert (folder / "network.yaml").exists()
    assert "kept the existing" in capsys.readouterr().out
