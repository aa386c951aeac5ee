"""`dynapcnn-dsl build` and `dynapcnn-dsl diff` end to end.

Commands run in-process through the console entry point (`dynapcnn_dsl.cli.main`, which turns
crashes into exit 3 and "internal error"), or through `dynapcnn_dsl.cli.run` where a test
monkeypatches the file system calls; one run goes through a real subprocess. Weights are numpy
arrays saved as .npz in tmp_path, chosen so that every core's quantization scale is exactly 127
(largest weight 1.0, smallest -1.0, threshold pair (-1, 1)).
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonpatch
import numpy as np
import pytest
from helpers import CHAIN, make_weights, write

import dynapcnn_dsl
from dynapcnn_dsl.cli import main, run
from dynapcnn_dsl.emit import FORMAT, VERSION

ROOT = Path(__file__).resolve().parents[2]
MISTAKES = ROOT / "examples" / "mistakes.yaml"

POOL4 = CHAIN.replace("pool: 2", "pool: 4")
MOVED = CHAIN.replace("  b:\n", "  b:\n    index: 5\n")
HIGH = CHAIN.replace("    to: [{core: b, pool: 2}]",
                     "    to: [{core: b, pool: 2}]\n    neuron: {threshold: 2.0, min_v_mem: -1.0}")

STRUCTURE_NOTE = "# one side has no weights: tensors and thresholds are not compared"
NEITHER_NOTE = "# neither side has weights: tensors and thresholds are not compared"
NAMES_NOTE = "# cores matched by their names in the network file"


# ------------------------------------------------------------------------------------ helpers
def listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


@pytest.fixture
def cli(capsys, monkeypatch):
    """Run `dynapcnn-dsl ARGS` in-process: (exit status, stdout, stderr)."""
    monkeypatch.delenv("DYNAPCNN_DSL_DEBUG", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")

    def invoke(*argv: str | Path) -> tuple[int, str, str]:
        capsys.readouterr()
        with pytest.raises(SystemExit) as exc:
            main([str(a) for a in argv])
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err and "internal error" not in err, out + err
        code = exc.value.code
        return (code if isinstance(code, int) else 1), out, err

    return invoke


@pytest.fixture
def net(tmp_path) -> Path:
    """The chain network in its own directory, with weights beside it (w.npz)."""
    d = tmp_path / "net"
    d.mkdir()
    path = write(d, "chain.yaml", CHAIN)
    make_weights(path, d / "w.npz")
    return path


def weights_of(network: Path) -> Path:
    return network.parent / "w.npz"


# =================================================================================== build
def test_build_writes_beside_the_network_by_default(cli, net):
    code, out, err = cli("build", net, weights_of(net))
    assert code == 0, out + err
    assert err == ""
    target = net.with_name("chain.samna.json")
    assert listing(net.parent) == ["chain.samna.json", "chain.yaml", "w.npz"]
    assert f"wrote {target} (speck2f, 2 cores)" in out
    assert "quantization of" in out and "chip totals" in out   # the build report
    data = json.loads(target.read_text(encoding="utf-8"))
    assert data["format"] == FORMAT and data["version"] == VERSION and data["chip"] == "speck2f"
    assert len(data["config"]["cnn_layers"]) == 9
    assert data["config"]["cnn_layers"][0]["destinations"][0] == {
        "enable": True, "layer": 1, "pooling": 2, "feature_shift": 0}
    assert data["config"]["cnn_layers"][0]["threshold_high"] == 127
    # the same document as the Python API builds
    assert target.read_text(encoding="utf-8") == dynapcnn_dsl.build(net, weights_of(net)).to_json()


def test_build_o_writes_where_told(cli, net, tmp_path):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / "config.json"
    code, out, _ = cli("build", net, weights_of(net), "-o", target)
    assert code == 0
    assert listing(out_dir) == ["config.json"]
    assert "chain.samna.json" not in listing(net.parent)
    assert json.loads(target.read_text(encoding="utf-8"))["format"] == FORMAT
    assert f"wrote {target}" in out


def test_build_replaces_an_existing_output(cli, net):
    target = net.with_name("chain.samna.json")
    target.write_text("old contents\n", encoding="utf-8")
    code, _, _ = cli("build", net, weights_of(net), "--quiet")
    assert code == 0
    assert json.loads(target.read_text(encoding="utf-8"))["chip"] == "speck2f"
    assert listing(net.parent) == ["chain.samna.json", "chain.yaml", "w.npz"]


def test_build_to_stdout_sends_the_report_to_stderr(cli, net):
    code, out, err = cli("build", net, weights_of(net), "-o", "-")
    assert code == 0
    data = json.loads(out)                       # stdout is the document and nothing else
    assert data["format"] == FORMAT and set(data) >= {"format", "version", "chip", "config"}
    assert out == dynapcnn_dsl.build(net, weights_of(net)).to_json()
    assert "quantization of" in err and "chip totals" in err
    assert "wrote" not in err
    assert listing(net.parent) == ["chain.yaml", "w.npz"]


def test_build_quiet_prints_nothing(cli, net):
    code, out, err = cli("build", net, weights_of(net), "--quiet")
    assert (code, out, err) == (0, "", "")
    assert net.with_name("chain.samna.json").is_file()


def test_build_annotate_records_names_and_positions(cli, net):
    code, out, _ = cli("build", net, weights_of(net), "--annotate", "-o", "-")
    assert code == 0
    data = json.loads(out)
    slots = data["annotations"]["cnn_layers"]
    assert slots[0] == {"core": "a", "file": str(net), "line": 7, "col": 3}
    assert slots[1] == {"core": "b", "file": str(net), "line": 10, "col": 3}
    assert slots[2:] == [None] * 7
    code, out, _ = cli("build", net, weights_of(net), "-o", "-")
    assert "annotations" not in json.loads(out)


def test_build_in_a_real_process(net):
    proc = subprocess.run([sys.executable, "-m", "dynapcnn_dsl", "build", str(net), str(weights_of(net)),
                           "-o", "-", "--annotate"], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "NO_COLOR": "1"})
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["chip"] == "speck2f" and data["annotations"]["cnn_layers"][0]["core"] == "a"
    assert "quantization of" in proc.stderr


# ---------------------------------------------------------------------- nothing written
OLD_BYTES = b'{"an": "old configuration"}\r\n\x00 kept byte for byte'


def test_a_bad_network_writes_nothing(cli, tmp_path):
    bad = tmp_path / "mistakes.yaml"
    shutil.copy(MISTAKES, bad)
    weights = tmp_path / "w.npz"
    np.savez(weights, **{"x.weight": np.ones((1, 1, 1, 1), np.float32)})
    target = tmp_path / "mistakes.samna.json"
    code, out, err = cli("build", bad, weights)
    assert code == 1
    assert "nothing was written" in out and err == ""
    assert f"{bad}:11:37: error[conv-kernel]" in out
    assert "  11 |     conv: {out_channels: 8, kernel: 17}" in out     # quoted source
    assert not target.exists()
    target.write_bytes(OLD_BYTES)
    code, out, _ = cli("build", bad, weights)
    assert code == 1 and "nothing was written" in out
    assert target.read_bytes() == OLD_BYTES
    assert listing(tmp_path) == ["mistakes.samna.json", "mistakes.yaml", "w.npz"]


def test_bad_weights_write_nothing(cli, net, tmp_path):
    bad = tmp_path / "bad.npz"
    np.savez(bad, **{"a.weight": np.ones((4, 3, 3, 3), np.float32),
                     "b.weight": np.ones((4, 4, 3, 3), np.float32)})
    target = tmp_path / "config.json"
    target.write_bytes(OLD_BYTES)
    code, out, _ = cli("build", net, bad, "-o", target)
    assert code == 1
    assert f"{net}:7:3: error[weights-shape]: core 'a': 'a.weight' is [4, 3, 3, 3]" in out
    assert "nothing was written" in out
    assert target.read_bytes() == OLD_BYTES
    default = net.with_name("chain.samna.json")
    default.write_bytes(OLD_BYTES)
    code, out, _ = cli("build", net, bad)
    assert code == 1 and default.read_bytes() == OLD_BYTES
    assert listing(tmp_path) == ["bad.npz", "config.json", "net"]


def test_bad_weights_to_stdout_print_nothing_on_stdout(cli, net, tmp_path):
    bad = tmp_path / "bad.npz"
    np.savez(bad, **{"a.weight": np.ones((4, 3, 3, 3), np.float32)})
    code, out, err = cli("build", net, bad, "-o", "-")
    assert code == 1
    assert out == ""
    assert "error[weights-shape]" in err and "error[weights-missing]" in err
    assert "nothing was written" in err


def test_a_file_that_is_no_weights_file_writes_nothing(cli, net):
    target = net.with_name("chain.samna.json")
    target.write_bytes(OLD_BYTES)
    code, out, _ = cli("build", net, net)            # the YAML given as weights
    assert code == 1
    assert "error[weights-format]" in out and "nothing was written" in out
    assert target.read_bytes() == OLD_BYTES


@pytest.mark.parametrize("missing", ["network", "weights"])
def test_build_with_a_missing_file_is_a_usage_error(cli, net, tmp_path, missing):
    args = [tmp_path / "nope.yaml", weights_of(net)] if missing == "network" else [net, tmp_path / "no.npz"]
    code, _, err = cli("build", *args)
    assert code == 2
    assert "no such file" in err
    assert listing(net.parent) == ["chain.yaml", "w.npz"]


def test_build_into_a_missing_directory_is_a_usage_error(cli, net, tmp_path):
    code, _, err = cli("build", net, weights_of(net), "-o", tmp_path / "no" / "config.json")
    assert code == 2
    assert f"cannot write {tmp_path / 'no' / 'config.json'}: No such file or directory" in err
    assert not (tmp_path / "no").exists()


# ------------------------------------------------------------------------------ atomicity
def _run_build(argv: list[str | Path]) -> int:
    """`dynapcnn_dsl.cli.run` in-process; a usage error (parser.error) exits 2."""
    try:
        return run([str(a) for a in argv])
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1


def test_a_failing_rename_leaves_the_old_file_and_no_temporary(net, monkeypatch, capsys):
    target = net.with_name("chain.samna.json")
    target.write_bytes(OLD_BYTES)
    before = listing(net.parent)
    calls = []

    def replace(src, dst, *args, **kwargs):
        calls.append((src, dst))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", replace)
    assert _run_build(["build", net, weights_of(net), "--quiet"]) == 2
    assert calls and Path(calls[0][1]) == target
    assert Path(calls[0][0]).parent == net.parent     # the temporary was beside the target
    assert target.read_bytes() == OLD_BYTES
    assert listing(net.parent) == before
    assert "cannot write" in capsys.readouterr().err


class _HalfWriter:
    """A file that writes the first half of what it is given, then fails (a full disk)."""

    def __init__(self, fh) -> None:
        self.fh = fh
        self.written = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.fh.close()

    def write(self, text: str) -> int:
        self.written = self.fh.write(text[: len(text) // 2])
        self.fh.flush()
        raise OSError(errno.ENOSPC, "No space left on device")

    def __getattr__(self, name):
        return getattr(self.fh, name)


def test_a_write_failing_midway_leaves_the_old_file_and_no_temporary(net, monkeypatch, capsys):
    target = net.with_name("chain.samna.json")
    target.write_bytes(OLD_BYTES)
    before = listing(net.parent)
    real_fdopen = os.fdopen
    writers: list[_HalfWriter] = []

    def fdopen(fd, *args, **kwargs):
        writers.append(_HalfWriter(real_fdopen(fd, *args, **kwargs)))
        return writers[-1]

    monkeypatch.setattr(os, "fdopen", fdopen)
    assert _run_build(["build", net, weights_of(net), "--quiet"]) == 2
    assert writers and writers[0].written > 0          # half the document did reach the disk
    assert target.read_bytes() == OLD_BYTES
    assert listing(net.parent) == before
    assert "cannot write" in capsys.readouterr().err


def test_a_failing_fsync_leaves_no_new_file(net, monkeypatch, tmp_path, capsys):
    target = tmp_path / "fresh.json"

    def fsync(fd):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fsync", fsync)
    assert _run_build(["build", net, weights_of(net), "--quiet", "-o", target]) == 2
    assert not target.exists()
    assert listing(tmp_path) == ["net"]
    assert f"cannot write {target}: Input/output error" in capsys.readouterr().err


def test_an_interrupt_while_writing_leaves_the_old_file_and_no_temporary(cli, net, monkeypatch):
    target = net.with_name("chain.samna.json")
    target.write_bytes(OLD_BYTES)
    before = listing(net.parent)

    def replace(src, dst, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", replace)
    code, _, err = cli("build", net, weights_of(net), "--quiet")
    assert code == 130 and "interrupted" in err
    assert target.read_bytes() == OLD_BYTES
    assert listing(net.parent) == before


def test_a_write_error_without_errno_is_still_explained(net, monkeypatch, capsys):
    def replace(src, dst, *args, **kwargs):
        raise OSError("the volume went away")

    monkeypatch.setattr(os, "replace", replace)
    assert _run_build(["build", net, weights_of(net), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "None" not in err
    assert "the volume went away" in err


# ==================================================================================== diff
@pytest.fixture
def built(cli, net) -> Path:
    """The chain's document, built with annotations beside it."""
    code, _, _ = cli("build", net, weights_of(net), "--annotate", "--quiet")
    assert code == 0
    return net.with_name("chain.samna.json")


def test_diff_of_identical_documents(cli, built, tmp_path):
    copy = tmp_path / "copy.json"
    shutil.copy(built, copy)
    code, out, err = cli("diff", built, copy)
    assert (code, err) == (0, "")
    assert out.splitlines() == [NAMES_NOTE, "no differences"]


def test_diff_of_a_document_and_its_network(cli, built, net):
    code, out, _ = cli("diff", built, net, "--weights", weights_of(net))
    assert code == 0
    assert out.splitlines() == [NAMES_NOTE, "no differences"]
    code, out, _ = cli("diff", net, built, "--old-weights", weights_of(net))
    assert code == 0 and out.endswith("no differences\n")


def test_diff_of_a_document_and_its_network_without_weights(cli, built, net):
    code, out, _ = cli("diff", built, net)
    assert code == 0
    assert out.splitlines() == [STRUCTURE_NOTE, NAMES_NOTE, "no differences"]


def test_diff_of_two_networks_is_structural(cli, net):
    other = write(net.parent, "pool4.yaml", POOL4)
    code, out, err = cli("diff", net, other)
    assert code == 1, out + err
    assert out.splitlines() == [
        NEITHER_NOTE,
        NAMES_NOTE,
        "cnn_layers[0].destinations[0].pooling: 2 -> 4   (core 'a')",
        "cnn_layers[1].dimensions.input_shape.size.x: 8 -> 4   (core 'b')",
        "cnn_layers[1].dimensions.input_shape.size.y: 8 -> 4   (core 'b')",
        "cnn_layers[1].dimensions.output_shape.size.x: 8 -> 4   (core 'b')",
        "cnn_layers[1].dimensions.output_shape.size.y: 8 -> 4   (core 'b')",
        "5 differences",
    ]
    high = write(net.parent, "high.yaml", HIGH)
    code, out, _ = cli("diff", net, high)            # thresholds need weights
    assert code == 0
    assert out.splitlines() == [NEITHER_NOTE, NAMES_NOTE, "no differences"]


def test_diff_with_weights_shows_a_changed_pooling_and_the_new_state_shape(cli, net, built):
    other = write(net.parent, "pool4.yaml", POOL4)
    code, out, _ = cli("diff", built, other, "--weights", weights_of(net))
    assert code == 1
    lines = out.splitlines()
    assert STRUCTURE_NOTE not in lines
    assert "cnn_layers[0].destinations[0].pooling: 2 -> 4   (core 'a')" in lines
    assert "cnn_layers[1].neurons_initial_value: shape [4, 8, 8] -> [4, 4, 4]   (core 'b')" in lines
    assert lines[-1] == "6 differences"


def test_diff_with_weights_shows_a_changed_threshold(cli, net):
    high = write(net.parent, "high.yaml", HIGH)
    code, out, _ = cli("diff", net, high, "--weights", weights_of(net))
    assert code == 1
    assert out.splitlines() == [NAMES_NOTE, "cnn_layers[0].threshold_high: 127 -> 254   (core 'a')",
                                "1 difference"]


def test_diff_with_old_and_new_weights_shows_a_changed_weight(cli, net, tmp_path):
    tensors = dict(np.load(weights_of(net)))
    w = tensors["b.weight"].copy()
    w[3, 2, 1, 0] = 0.5                       # -> round(63.5) = 64 (half to even)
    tensors["b.weight"] = w
    changed = tmp_path / "changed.npz"
    np.savez(changed, **tensors)
    old_entry = int(np.round(np.load(weights_of(net))["b.weight"][3, 2, 1, 0] * np.float32(127)))
    code, out, _ = cli("diff", net, net, "--old-weights", weights_of(net), "--new-weights", changed)
    assert code == 1
    assert out.splitlines() == [
        NAMES_NOTE,
        f"cnn_layers[1].weights: 1 of 144 entries changed, largest change {abs(64 - old_entry)} "
        "(shape [4, 4, 3, 3])   (core 'b')",
        "1 difference",
    ]


def test_diff_reports_a_moved_core_once(cli, net, built):
    moved = write(net.parent, "moved.yaml", MOVED)
    code, out, _ = cli("diff", built, moved, "--weights", weights_of(net))
    assert code == 1
    assert out.splitlines() == [NAMES_NOTE, "cnn_layers[1->5]: moved from core 1 to core 5 (core 'b')",
                                "1 difference"]


def test_diff_ignores_leftovers_in_unused_cores(cli, built, tmp_path):
    data = json.loads(built.read_text(encoding="utf-8"))
    layers = data["config"]["cnn_layers"]
    layers[4] = {"dimensions": {"kernel_size": 7}, "weights": [[[[1]]]], "threshold_high": 99,
                 "monitor_enable": False,
                 "destinations": [{"enable": False, "layer": 2, "pooling": 4, "feature_shift": 5},
                                  {"enable": False, "layer": 0}]}
    layers[1]["destinations"][1] = {"enable": False, "layer": 8, "pooling": 2, "feature_shift": 1}
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(data), encoding="utf-8")
    code, out, _ = cli("diff", built, edited)
    assert code == 0
    assert out.endswith("no differences\n")


def test_diff_json_patch_applies_to_the_old_config(cli, net, built, tmp_path):
    moved = write(net.parent, "moved.yaml", MOVED.replace("pool: 2", "pool: 4"))
    code, _, _ = cli("build", moved, weights_of(net), "--annotate", "--quiet")
    assert code == 0
    new_doc = net.with_name("moved.samna.json")
    code, out, _ = cli("diff", built, new_doc, "--format", "json-patch")
    assert code == 1
    patch = json.loads(out)
    assert isinstance(patch, list) and patch
    assert all(op["op"] in {"add", "remove", "replace", "move", "copy", "test"} for op in patch)
    # paths are the document's (/chip, /config/...): the patch applies to the old document
    old_doc, new = (json.loads(p.read_text(encoding="utf-8")) for p in (built, new_doc))
    old_config, new_config = old_doc["config"], new["config"]
    assert jsonpatch.JsonPatch(patch).apply(old_doc)["config"] == new_config
    assert jsonpatch.JsonPatch(patch).apply({"config": old_config}) == {"config": new_config}
    # a network side works as well, and gives the same patch
    code, out2, _ = cli("diff", built, moved, "--weights", weights_of(net), "--format", "json-patch")
    assert code == 1
    assert jsonpatch.JsonPatch(json.loads(out2)).apply({"config": old_config}) == {"config": new_config}


def test_diff_json_patch_of_identical_sides_is_empty(cli, built, net):
    code, out, _ = cli("diff", built, net, "--weights", weights_of(net), "--format", "json-patch")
    assert code == 0
    assert json.loads(out) == []


def test_diff_when_a_side_does_not_build(cli, net, tmp_path):
    bad = tmp_path / "mistakes.yaml"
    shutil.copy(MISTAKES, bad)
    code, out, err = cli("diff", net, bad)
    assert code == 2
    assert "difference" not in out
    for pos, rule in [("11:37", "conv-kernel"), ("12:5", "dest-max"), ("18:12", "concat-needs-from")]:
        assert f"{bad}:{pos}: error[{rule}]" in err
    assert re.search(rf"{re.escape(str(bad))}: invalid \(5 errors\)", err)
    code, out, err = cli("diff", bad, net, "--format", "json-patch")
    assert code == 2 and out == "" and "error[conv-kernel]" in err


def test_diff_when_the_weights_do_not_fit(cli, net, tmp_path):
    bad = tmp_path / "bad.npz"
    np.savez(bad, **{"a.weight": np.ones((4, 3, 3, 3), np.float32),
                     "b.weight": np.ones((4, 4, 3, 3), np.float32)})
    code, out, err = cli("diff", net, net, "--old-weights", weights_of(net), "--new-weights", bad)
    assert code == 2
    assert "error[weights-shape]" in err
    assert "difference" not in out


@pytest.mark.parametrize("which", ["old", "new", "weights"])
def test_diff_with_a_missing_file_is_a_usage_error(cli, net, tmp_path, which):
    missing = tmp_path / "missing.json"
    args = {"old": [missing, net], "new": [net, missing], "weights": [net, net, "--weights", missing]}[which]
    code, out, err = cli("diff", *args)
    assert code == 2
    assert out == ""
    assert f"{missing}: no such file" in err
