"""`dynapcnn-dsl new`: every starter is a valid network, with the schema beside it."""

from __future__ import annotations

import pytest

import dynapcnn_dsl
from dynapcnn_dsl.cli import run
from dynapcnn_dsl.cli.new_cmd import STARTERS
from dynapcnn_dsl.pipeline import run_file
from dynapcnn_dsl.schema import schema_text


@pytest.mark.parametrize("kind", STARTERS)
def test_each_starter_is_valid_and_builds(kind, tmp_path, capsys):
    folder = tmp_path / f"my-{kind}"
    assert run(["new", str(folder), "--template", kind]) == 0
    network = folder / "network.yaml"
    assert network.read_text().startswith("# yaml-language-server: $schema=network.schema.json\n")
    assert (folder / "network.schema.json").read_text() == schema_text()
    result = run_file(network)
    assert result.ok and result.diagnostics == ()
    assert result.network.name == f"my-{kind}"
    doc = dynapcnn_dsl.build(network)  # structure only: no weights yet
    assert doc.chip == "speck2f"
    assert "next: dynapcnn-dsl validate" in capsys.readouterr().out


def test_an_existing_network_is_never_overwritten(tmp_path, capsys):
    folder = tmp_path / "net"
    assert run(["new", str(folder)]) == 0
    (folder / "network.yaml").write_text("mine")
    with pytest.raises(SystemExit) as exc:
        run(["new", str(folder), "--template", "resnet"])
    assert exc.value.code == 2
    assert (folder / "network.yaml").read_text() == "mine"
    assert "already exists" in capsys.readouterr().err
