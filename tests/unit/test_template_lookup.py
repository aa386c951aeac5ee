"""Template lookup (issue 9, class 5): a reference names a template file (.yaml/.yml) inside the
search path - the network's directory and below, --templates directories, the bundled
templates - or it is refused without the file being opened; a file that is not a template is
never quoted in a diagnostic.

The network is tmp/net/net.yaml; files outside tmp/net are outside its search path.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dynapcnn_dsl.pipeline import Stage, run_file

SECRET = "root:$6$salt$HASHHASHHASH:19000:0:99999:7:::\nbob:$6$zz$OTHERHASH:19000:0:99999:7:::\n"

TEMPLATE = """\
template: 1
cores:
  x: {conv: {out_channels: 8, kernel: 1}}
entry: [x]
exit: x
"""

NET = """\
dsl: 1
chip: speck2f
input: {source: host, shape: [8, 16, 16], to: [block]}
cores:
  block:
    template: REF
"""
"""The reference's value is at 6:15."""


def run(tmp_path: Path, ref: str, **kw):
    net = tmp_path / "net"
    net.mkdir(exist_ok=True)
    path = net / "net.yaml"
    path.write_text(NET.replace("REF", ref), encoding="utf-8")
    return run_file(path, until=Stage.RULES, **kw)


def everything_said(result) -> str:
    return "\n".join(f"{d.file} {d.message} {d.hint} {[r.message for r in d.related]}"
                     for d in result.diagnostics)


def only(result, code: str):
    assert [(Path(d.file).name, str(d.position), d.code) for d in result.diagnostics] == [
        ("net.yaml", "6:15", code)]
    return result.diagnostics[0]


@pytest.mark.parametrize("ref", ["../secret", "../secret.yaml", "'../../net/../secret'"])
def test_a_template_outside_the_network_directory_is_refused_not_used(tmp_path, ref):
    """A valid template outside the search path: were it read, the instance would expand."""
    (tmp_path / "secret.yaml").write_text(TEMPLATE, encoding="utf-8")
    d = only(run(tmp_path, ref), "template-not-found")
    assert "leads outside the template search path" in d.message
    assert d.hint == "put the template there, or pass its directory with --templates"


def test_the_same_template_is_used_once_its_directory_is_given(tmp_path):
    (tmp_path / "secret.yaml").write_text(TEMPLATE, encoding="utf-8")
    assert run(tmp_path, "../secret", templates=[tmp_path]).diagnostics == ()


@pytest.mark.parametrize("ref", ["../shadow", "/etc/shadow", "/etc/passwd", "../../../../../../etc/shadow"])
def test_a_system_file_is_refused_and_never_quoted(tmp_path, ref):
    (tmp_path / "shadow").write_text(SECRET, encoding="utf-8")
    result = run(tmp_path, ref)
    assert only(result, "template-not-found")
    assert "HASH" not in everything_said(result) and "root:" not in everything_said(result)


def test_a_symbolic_link_out_of_the_search_path_is_refused(tmp_path):
    (tmp_path / "secret.yaml").write_text(TEMPLATE, encoding="utf-8")
    (tmp_path / "net").mkdir()
    os.symlink(tmp_path / "secret.yaml", tmp_path / "net" / "link.yaml")
    assert "leads outside" in only(run(tmp_path, "link"), "template-not-found").message


def test_a_symbolic_link_within_the_search_path_is_followed(tmp_path):
    (tmp_path / "net" / "lib").mkdir(parents=True)
    (tmp_path / "net" / "lib" / "real.yaml").write_text(TEMPLATE, encoding="utf-8")
    os.symlink(tmp_path / "net" / "lib" / "real.yaml", tmp_path / "net" / "link.yaml")
    assert run(tmp_path, "link").diagnostics == ()


@pytest.mark.parametrize("text", [
    "password: hunter2\nuser: root\n",            # loads, but is no template
    "password: [hunter2\n",                      # does not even load
    "- hunter2\n- root\n",                        # a list
    "hunter2 root\n",                             # a plain string
])
def test_a_yaml_file_that_is_not_a_template_is_never_quoted(tmp_path, text):
    (tmp_path / "net").mkdir()
    (tmp_path / "net" / "creds.yaml").write_text(text, encoding="utf-8")
    result = run(tmp_path, "creds")
    d = only(result, "template-invalid")
    assert d.message.startswith("'creds' (") and d.message.endswith("creds.yaml) is not a template file")
    assert "hunter2" not in everything_said(result)


def test_a_broken_template_still_lists_its_own_problems(tmp_path):
    """A file that declares itself a template (`template:` at the top) is shown as before."""
    (tmp_path / "net").mkdir()
    (tmp_path / "net" / "bad.yaml").write_text("template: 1\ncores: [\n", encoding="utf-8")
    result = run(tmp_path, "bad")
    assert [(Path(d.file).name, d.code) for d in result.diagnostics] == [
        ("bad.yaml", "yaml-syntax"), ("net.yaml", "template-invalid")]


@pytest.mark.parametrize("name", ["notes.txt", "notes"])
def test_only_yaml_files_are_templates(tmp_path, name):
    (tmp_path / "net").mkdir()
    (tmp_path / "net" / "notes.txt").write_text(TEMPLATE, encoding="utf-8")
    (tmp_path / "net" / "notes.json").write_text(TEMPLATE, encoding="utf-8")
    assert "no template" in only(run(tmp_path, name), "template-not-found").message


@pytest.mark.parametrize("ref", ["'lib/'", "'x' ", "'a\\0b'", "'" + "a" * 5000 + "'"])
def test_names_that_are_no_file_are_refused_quietly(tmp_path, ref):
    only(run(tmp_path, ref), "template-not-found")


def test_a_template_cache_reuses_an_unchanged_file_and_rereads_a_changed_one(tmp_path):
    """The language server checks on every change with one `TemplateCache`: an unchanged
    template is the very object loaded before, a changed one is read again, and the results
    are those of a run without the cache."""
    from dynapcnn_dsl.expand.lookup import TemplateCache, TemplateLibrary
    from dynapcnn_dsl.pipeline import run_text

    net = tmp_path / "net"
    net.mkdir()
    (net / "tpl.yaml").write_text(TEMPLATE)
    cache = TemplateCache()
    first = TemplateLibrary(net, [], cache).get("tpl", net)
    assert TemplateLibrary(net, [], cache).get("tpl", net) is first
    (net / "tpl.yaml").write_text(TEMPLATE.replace("kernel: 1", "kernel: 17"))
    text = NET.replace("REF", "tpl")
    cached = run_text(text, "net.yaml", base=net, template_cache=cache)
    plain = run_text(text, "net.yaml", base=net)
    assert [d.code for d in cached.diagnostics] == [d.code for d in plain.diagnostics] == ["conv-kernel"]
    assert TemplateLibrary(net, [], cache).get("tpl", net) is not first
