"""The configuration document as typed values (dynapcnn_dsl.config): every class round-trips, the
schema is generated from the classes, the weight limit is the chip's int8 on both sides, core
names are read in one place, and no module outside config/ spells the document's keys.
"""

from __future__ import annotations

import ast
from dataclasses import MISSING, fields, is_dataclass
from pathlib import Path

import numpy as np
import pytest
from conftest import CHAIN, ROOT, write_weights

import dynapcnn_dsl
from dynapcnn_dsl.chips import profiles
from dynapcnn_dsl.config import (
    Annotations,
    Configuration,
    CoreNote,
    TreeError,
    from_tree,
    to_tree,
)
from dynapcnn_dsl.config import model as config_model
from dynapcnn_dsl.config.fields import key_of, on_chip, tensors
from dynapcnn_dsl.config.reader import parse_configuration, read_configuration
from dynapcnn_dsl.config.schema import document_schema
from dynapcnn_dsl.config.tree import UnknownField
from dynapcnn_dsl.config.writer import write_text
from dynapcnn_dsl.simulator import SimulationError

PACKAGE = ROOT / "dynapcnn_dsl"
GOLDEN = sorted((ROOT / "tests" / "golden").glob("*.samna.json"))
CLASSES = sorted((c for c in vars(config_model).values()
                  if isinstance(c, type) and is_dataclass(c) and c.__module__ == config_model.__name__),
                 key=lambda c: c.__name__)


def typed_classes(value: object, seen: set[type]) -> set[type]:
    """Every class of config.model a typed value holds, itself included."""
    if is_dataclass(value) and not isinstance(value, type):
        seen.add(type(value))
        for f in fields(value):
            typed_classes(getattr(value, f.name), seen)
    elif isinstance(value, tuple):
        for item in value:
            typed_classes(item, seen)
    return seen


@pytest.fixture(scope="module")
def annotated(tmp_path_factory) -> Configuration:
    """An annotated build of the example with a DVS input and a readout: every class in use."""
    tmp = tmp_path_factory.mktemp("annotated")
    net = ROOT / "examples" / "dvs-speck2f" / "network.yaml"
    weights = tmp / "w.npz"
    write_weights(net, weights)
    out = tmp / "annotated.json"
    dynapcnn_dsl.build(net, weights, annotate=True).write(out)
    configuration, problems = read_configuration(out)
    assert problems == [] and configuration is not None
    return configuration


# ------------------------------------------------------------------------------- round trips
@pytest.mark.parametrize("golden", GOLDEN, ids=[g.name.split(".")[0] for g in GOLDEN])
def test_every_golden_document_reads_into_values_and_writes_back_byte_identical(golden):
    configuration, problems = read_configuration(golden)
    assert problems == [] and configuration is not None
    assert write_text(configuration) == golden.read_text(encoding="utf-8")


def test_every_class_of_the_model_is_in_a_document_and_round_trips(annotated):
    seen = typed_classes(annotated, set())
    assert seen == set(CLASSES), sorted(c.__name__ for c in set(CLASSES) - seen)
    again = from_tree(to_tree(annotated))
    assert write_text(again) == write_text(annotated)


def test_a_field_left_at_none_is_absent_and_a_null_stays_null(tmp_path):
    net = tmp_path / "net.yaml"
    net.write_text(CHAIN, encoding="utf-8")
    tree = dynapcnn_dsl.build(net).data           # structure only: weights null, no tensors
    configuration = from_tree(tree)
    assert configuration.structure_only
    assert configuration.source is not None and configuration.source.weights is None
    layer = configuration.config.cnn_layers[0]
    assert layer.weights is None and layer.threshold_high is None
    written = to_tree(configuration)
    assert written["source"]["weights"] is None and "weights" not in written["config"]["cnn_layers"][0]


def test_a_tree_that_does_not_fit_names_the_path():
    configuration = from_tree(dynapcnn_dsl.Document.read(GOLDEN[0]).data)
    tree = to_tree(configuration)
    tree["config"]["cnn_layers"][2]["colour"] = "red"
    with pytest.raises(UnknownField, match=r"config\.cnn_layers\[2\]\.colour: is not a field"):
        from_tree(tree)
    tree = to_tree(configuration)
    tree["config"]["dvs_layer"] = [1, 2]
    with pytest.raises(TreeError, match=r"config\.dvs_layer: must be an object, not list"):
        from_tree(tree)
    tree = to_tree(configuration)
    del tree["config"]["cnn_layers"][0]["destinations"]
    with pytest.raises(TreeError, match=r"config\.cnn_layers\[0\]\.destinations: missing"):
        from_tree(tree)


# ------------------------------------------------------------------------------- the schema
def test_the_schema_has_every_field_of_every_class_and_nothing_else():
    schema = document_schema()
    definitions = schema["definitions"]
    assert set(schema["properties"]) == {key_of(f) for f in fields(Configuration)}
    for name, cls in (("cnn_layer", config_model.CnnLayer), ("dvs_layer", config_model.DvsLayer),
                      ("readout", config_model.Readout)):
        assert set(definitions[name]["properties"]) == {key_of(f) for f in fields(cls)}
        required = [key_of(f) for f in fields(cls) if f.default is MISSING]
        assert definitions[name].get("required", []) == required
    assert definitions["cnn_layer"]["required"] == ["destinations"]
    assert definitions["readout"]["required"] == ["enable"]


def test_every_chip_gate_names_a_fact_of_the_chip_profile():
    chip = profiles()["speck2f"]
    for cls in CLASSES:
        for f in fields(cls):
            gate = f.metadata.get("chip")
            if isinstance(gate, str):
                assert hasattr(chip, gate), (cls.__name__, f.name, gate)
    layer = {f.name: f for f in fields(config_model.CnnLayer)}
    assert on_chip(layer["output_decimator_enable"], profiles()["speck2f"])
    assert not on_chip(layer["output_decimator_enable"], profiles()["dynapcnn"])
    assert on_chip(layer["weights_kill_bit"], profiles()["speck2b"])
    assert not on_chip(layer["weights_kill_bit"], profiles()["speck2e"])


# ------------------------------------------------------------------- weights are int8, not int16
def with_first_weight(value: int) -> tuple[bytes, tuple[int, int]]:
    """The smallest golden document with its first weight replaced, and where the tensor starts."""
    golden = min(GOLDEN, key=lambda p: p.stat().st_size)
    text = golden.read_text(encoding="utf-8")
    start = text.index('"weights": [') + len('"weights": ')
    first = text.index("[[[[", start) + 4
    end = min(text.index(",", first), text.index("]", first))
    line = text.count("\n", 0, start) + 1
    return (text[:first] + str(value) + text[end:]).encode(), (line, start - text.rfind("\n", 0, start))


@pytest.mark.parametrize("weight", [127, -128])
def test_a_weight_at_the_int8_limit_is_read(weight):
    raw, _ = with_first_weight(weight)
    configuration, problems = parse_configuration(raw, "doc.json")
    assert problems == []
    assert configuration is not None
    assert int(configuration.config.cnn_layers[0].weights.flat[0]) == weight  # type: ignore[union-attr]


@pytest.mark.parametrize("weight", [128, -129, 32767])
def test_a_weight_past_the_int8_limit_is_refused_at_the_tensor(weight):
    raw, (line, col) = with_first_weight(weight)
    configuration, problems = parse_configuration(raw, "doc.json")
    assert configuration is None
    assert [(d.code, str(d.position), d.message) for d in problems] == [
        ("document-invalid", f"{line}:{col}", "weights: holds values outside -128..127")]


def test_the_weight_limit_is_the_chip_facts_int8():
    lowest, highest = tensors()["weights"][2:4]
    bits = profiles()["speck2f"].limits.weight_bits
    assert (bits, lowest, highest) == (8, -128, 127)     # shared/HARDWARE.md: kernel memory is 8-bit


ONE_EVENT = {"t": [0], "x": [0], "y": [0], "p": [0]}


def refused_by_simulate(document) -> list[tuple[str, str, str]]:
    with pytest.raises(SimulationError) as exc:
        dynapcnn_dsl.simulate(document, ONE_EVENT)
    return [(d.code, str(d.position), d.message) for d in exc.value.diagnostics]


@pytest.mark.parametrize("weight", [127, -128])
def test_simulate_runs_a_weight_at_the_int8_limit_from_a_file_and_from_a_tree(tmp_path, weight):
    raw, _ = with_first_weight(weight)
    (tmp_path / "doc.json").write_bytes(raw)
    assert dynapcnn_dsl.simulate(tmp_path / "doc.json", ONE_EVENT).summary.events_in == 1
    tree = dynapcnn_dsl.Document.read(tmp_path / "doc.json").data
    assert int(tree["config"]["cnn_layers"][0]["weights"].flat[0]) == weight
    assert dynapcnn_dsl.simulate(tree, ONE_EVENT).summary.events_in == 1


@pytest.mark.parametrize("weight", [128, -129])
def test_simulate_refuses_a_weight_past_the_int8_limit_from_a_file_and_from_a_tree(tmp_path, weight):
    raw, (line, col) = with_first_weight(weight)
    (tmp_path / "doc.json").write_bytes(raw)
    assert refused_by_simulate(tmp_path / "doc.json") == [
        ("document-invalid", f"{line}:{col}", "weights: holds values outside -128..127")]
    tree = dynapcnn_dsl.Document.read(min(GOLDEN, key=lambda p: p.stat().st_size)).data
    tree["config"]["cnn_layers"][0]["weights"].flat[0] = weight      # a tree has no positions: a path
    assert refused_by_simulate(tree) == [
        ("simulate-document", "None", "config.cnn_layers[0].weights: holds values outside -128..127")]


# --------------------------------------------- the readout threshold: 16 bits, either reading
def with_readout_threshold(value: int) -> tuple[bytes, tuple[int, int]]:
    """The DVS example's golden document (its readout on, threshold 0) with another threshold,
    and where the value stands."""
    text = (ROOT / "tests" / "golden" / "dvs-speck2f.samna.json").read_text(encoding="utf-8")
    at = text.index('"threshold": 0,', text.index('"readout": {"enable": true')) + len('"threshold": ')
    line = text.count("\n", 0, at) + 1
    return (text[:at] + str(value) + text[at + 1:]).encode(), (line, at - text.rfind("\n", 0, at))


def test_the_readout_threshold_range_is_one_chip_fact():
    schema = document_schema()["definitions"]["readout"]["properties"]["threshold"]
    lowest, highest = profiles()["speck2f"].limits.readout_threshold
    assert (schema["minimum"], schema["maximum"]) == (lowest, highest) == (-32768, 65535)


@pytest.mark.parametrize("threshold", [-32768, 65535])
def test_a_readout_threshold_at_either_end_of_16_bits_is_read_and_simulated(threshold):
    raw, _ = with_readout_threshold(threshold)
    configuration, problems = parse_configuration(raw, "doc.json")
    assert problems == [] and configuration is not None
    assert configuration.config.readout.threshold == threshold  # type: ignore[union-attr]
    result = dynapcnn_dsl.simulate(to_tree(configuration), ONE_EVENT, slow_clock_hz=1000.0)
    assert result.readout is not None and len(result.readout) == 1
    assert result.readout["above"].all() == (threshold < 0)   # an average of 0 is above -32768 only


@pytest.mark.parametrize(("threshold", "why"), [(-32769, "is less than the minimum of -32768"),
                                                (65536, "is greater than the maximum of 65535")])
def test_a_readout_threshold_past_16_bits_is_refused_by_the_reader_and_by_simulate(tmp_path, threshold, why):
    raw, (line, col) = with_readout_threshold(threshold)
    message = f"config.readout.threshold: {threshold} {why}"
    configuration, problems = parse_configuration(raw, "doc.json")
    assert configuration is None
    assert [(d.code, str(d.position), d.message) for d in problems] == [("document-invalid", f"{line}:{col}",
                                                                         message)]
    (tmp_path / "doc.json").write_bytes(raw)
    assert refused_by_simulate(tmp_path / "doc.json") == [("document-invalid", f"{line}:{col}", message)]
    tree = dynapcnn_dsl.Document.read(ROOT / "tests" / "golden" / "dvs-speck2f.samna.json").data
    tree["config"]["readout"]["threshold"] = threshold
    assert refused_by_simulate(tree) == [("simulate-document", "None", message)]


def test_a_negative_readout_threshold_that_build_writes_is_simulated(tmp_path):
    """The language takes -32768..32767 and build writes it as it is; the simulator used to refuse
    every negative threshold (0..65535). Every class with an average above -5 is over it."""
    net = ROOT / "examples" / "dvs-speck2f" / "network.yaml"
    text = net.read_text(encoding="utf-8").replace("  threshold: 0\n", "  threshold: -5\n")
    write_weights(net, tmp_path / "w.npz")
    doc = dynapcnn_dsl.build(text, tmp_path / "w.npz")
    assert doc.config["readout"]["threshold"] == -5
    result = doc.simulate(ONE_EVENT, slow_clock_hz=1000.0)
    assert result.readout is not None and result.readout["above"].all()


# ----------------------------------------------------------------------------------- core names
def test_core_names_come_from_the_annotations_else_the_slot():
    notes = Annotations(cnn_layers=(CoreNote(core="a"), None, CoreNote(core="a"), CoreNote(core="b")))
    assert notes.core_names() == ["a", None, "a", "b"]
    assert notes.core_names(5) == ["a", None, "a", "b", None]
    configuration = from_tree(dynapcnn_dsl.Document.read(GOLDEN[0]).data)
    named = Configuration(format=configuration.format, version=configuration.version,
                          chip=configuration.chip, config=configuration.config, annotations=notes)
    assert named.core_names() == ["a", "core1", "core2", "b", *(f"core{i}" for i in range(4, 9))]


def test_an_annotated_build_names_its_cores(annotated):
    names = annotated.core_names()
    assert [names[i] for i in annotated.used()] == [
        n.core for n in annotated.annotations.cnn_layers if n is not None]  # type: ignore[union-attr]


# ------------------------------------------------- the document's keys are spelled in config/ only
ALL_KEYS = frozenset(key_of(f) for cls in CLASSES for f in fields(cls))
GENERIC = frozenset({
    # keys that are also words of the language, the chip facts, the CLI, the events, diagnostics
    # or another format: a bare string equal to one proves nothing about the document. Each has
    # such another meaning outside config/ (a test keeps this list honest), and one read under
    # its parent key (`doc["input"]["shape"]`, `dims["stride"]["x"]`) is caught all the same.
    "chip", "col", "core", "feature_shift", "file", "input", "input_shape", "layer", "line", "merge",
    "module", "network", "origin", "padding", "readout", "samna", "shape", "size", "source", "stride",
    "threshold", "version", "weights", "x", "y",
})
KEYS = sorted(ALL_KEYS - GENERIC)
OWN_FORMATS = {
    # module -> (the document keys it may spell because a format of its own has them, why)
    "chips/facts.py": ({"destinations", "threshold_high", "threshold_low"},
                       "LIMITS names the chip's facts (destinations per core, thresholds)"),
    "report/inspect.py": ({"destinations", "output_shape"}, "inspect's own JSON output"),
    "lsp/features.py": ({"destinations", "output_shape"}, "hovers read inspect's own JSON output"),
    "report/quantization.py": ({"threshold_high", "threshold_low"}, "the quantization report's own fields"),
    "codes.py": ({"config"}, "the code catalogue's stage names ('config': the configuration reader's codes)"),
}


def _strings(tree: ast.AST) -> list[ast.Constant]:
    """The string literals of a module but those of `__all__` (it lists names, not keys)."""
    skip = {id(n) for node in ast.walk(tree) if isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
            for n in ast.walk(node.value)}
    return [node for node in ast.walk(tree) if isinstance(node, ast.Constant)
            and isinstance(node.value, str) and id(node) not in skip]


def _children() -> dict[str, frozenset[str]]:
    """A document key -> the keys of the object it holds (`input` -> source, shape, layers)."""
    out: dict[str, set[str]] = {}
    for cls in CLASSES:
        for f in fields(cls):
            held = f.metadata.get("node") or f.metadata.get("nodes") or f.metadata.get("struct")
            if held is not None:
                out.setdefault(key_of(f), set()).update(key_of(g) for g in fields(held))
    return {key: frozenset(keys) for key, keys in out.items()}


CHILDREN = _children()


def _read_key(node: ast.AST) -> tuple[str, ast.AST] | None:
    """(key, what it is read from) for `thing["key"]` and `thing.get("key", ...)`."""
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) \
            and isinstance(node.slice.value, str):
        return node.slice.value, node.value
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get" \
            and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
        return node.args[0].value, node.func.value
    return None


def _parent_key(node: ast.AST) -> str | None:
    """The key the object read from was itself read by, past list indices (`x["cnn_layers"][i]`)."""
    while True:
        read = _read_key(node)
        if read is not None:
            return read[0]
        if not isinstance(node, ast.Subscript):
            return None
        node = node.value


def spelled_keys(path: Path) -> set[str]:
    """The document keys a module spells: any string literal equal to a key that is not generic,
    and a generic key read under the key of the object that holds it in the document."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = {node.value for node in _strings(tree) if node.value in KEYS}
    for node in ast.walk(tree):
        read = _read_key(node)
        held = CHILDREN.get(_parent_key(read[1]) or "", frozenset()) if read is not None else frozenset()
        if read is not None and read[0] in GENERIC and read[0] in held:
            found.add(read[0])
    return found


def modules_outside_config() -> list[tuple[str, Path]]:
    return [(path.relative_to(PACKAGE).as_posix(), path) for path in sorted(PACKAGE.rglob("*.py"))
            if not path.relative_to(PACKAGE).as_posix().startswith("config/")]


def test_every_key_of_every_class_is_checked_strictly_or_as_a_word_with_another_meaning():
    assert set(KEYS) | GENERIC == ALL_KEYS and GENERIC <= ALL_KEYS
    assert {"cnn_layers", "neurons_initial_value", "destinations", "dvs_layer", "kernel_size",
            "monitor_enable", "output_decimator_interval", "pass_sensor_events", "class"} <= set(KEYS)
    elsewhere = {node.value for _, path in modules_outside_config()
                 for node in _strings(ast.parse(path.read_text(encoding="utf-8")))}
    assert GENERIC - elsewhere == set(), "no other meaning outside config/: check these keys strictly"


def test_a_generic_key_read_under_its_document_parent_is_caught(tmp_path):
    module = tmp_path / "m.py"
    module.write_text('def f(doc, dims, other):\n'
                      '    return doc["input"]["shape"], dims["stride"].get("x"), other["shape"]\n',
                      encoding="utf-8")
    assert spelled_keys(module) == {"shape", "x"}           # other["shape"]: a word, not the document
    module.write_text('LAYER = {"kernel_size": 3}\n__all__ = ["destinations"]\n', encoding="utf-8")
    assert spelled_keys(module) == {"kernel_size"}


def test_no_module_outside_config_spells_the_documents_keys():
    """Every module of the package but config/ (cli/, lsp/, the API, every phase) reads and
    builds the document through dynapcnn_dsl.config's typed values, never by its keys; a module
    with a format of its own may spell that format's keys only."""
    scanned = dict(modules_outside_config())
    assert {"api.py", "cli/simulate_cmd.py", "lsp/server.py", "simulator/machine.py",
            "samna_bridge.py", "differ/compare.py", "importer/from_document.py"} <= set(scanned)
    found = {}
    for name, path in scanned.items():
        allowed = OWN_FORMATS.get(name, (set(), ""))[0]
        keys = spelled_keys(path) - allowed
        if keys:
            found[name] = sorted(keys)
    assert found == {}, "read or build the document through dynapcnn_dsl.config, not by its keys"


@pytest.mark.parametrize("name", sorted(OWN_FORMATS))
def test_each_own_format_still_spells_every_key_it_is_allowed(name):
    allowed, _ = OWN_FORMATS[name]
    assert allowed <= spelled_keys(PACKAGE / name), f"{name}: narrow its OWN_FORMATS entry"


GENERIC_WALKERS = {
    # module -> the CNN layer fields it names, and why: everything else it takes from the classes'
    # fields, so a new field goes through it untouched
    # an unused core is written `destinations` first; `weights` there is the source's (structure_only)
    "config/tree.py": {"destinations", "weights"},
    "config/reader.py": set(),
    "config/writer.py": set(),
    "config/schema.py": set(),
    "samna_bridge.py": set(),
    "differ/compare.py": {"destinations", "monitor_enable"},   # what makes a core unused
}


def identifiers(path: Path) -> set[str]:
    """The names a module uses for fields: attributes, keywords and strings (`layer.weights`,
    `CnnLayer(weights=...)`, `getattr(layer, "weights")`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return ({n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
            | {n.arg for n in ast.walk(tree) if isinstance(n, ast.keyword) and n.arg}
            | {n.value for n in _strings(tree)})


def test_a_new_cnn_layer_field_touches_config_and_the_phase_that_produces_it_only():
    """The issue's claim, shown on the code: a field of a CNN layer is declared in config/model.py
    (its schema from the chip facts in the same line) and set by emit, which produces every
    field. Every module that handles all fields (tree, reader, writer, schema, the samna bridge,
    diff) walks the classes' fields, naming none but for a stated reason; no module outside
    config/ spells a key (the guard above). The simulator and the decompiler name only the
    fields they compute with, by attribute: a field they do not use leaves them as they are."""
    layer_fields = {f.name for f in fields(config_model.CnnLayer)}
    for name, reasons in GENERIC_WALKERS.items():
        assert identifiers(PACKAGE / name) & layer_fields == reasons, name
    produced = identifiers(PACKAGE / "emit" / "configuration.py") & layer_fields
    assert produced == layer_fields, sorted(layer_fields - produced)


# --------------------------------------------------------- runnable: the simulator's check, typed
def test_every_golden_and_a_fresh_build_are_runnable(tmp_path):
    from dynapcnn_dsl.config.runnable import check

    for golden in GOLDEN:
        configuration, problems = check(dynapcnn_dsl.Document.read(golden).data)
        assert problems == [] and configuration is not None, golden.name
    net = tmp_path / "net.yaml"
    net.write_text(CHAIN, encoding="utf-8")
    write_weights(net, tmp_path / "w.npz")
    built = dynapcnn_dsl.build(net, tmp_path / "w.npz")
    assert check(built.data)[1] == []          # the tree the API hands out, numpy arrays and all


def test_an_int16_weight_handed_over_as_a_tree_is_refused_as_the_reader_refuses_it():
    from dynapcnn_dsl.config.runnable import check

    tree = dynapcnn_dsl.Document.read(GOLDEN[0]).data
    tree["config"]["cnn_layers"][0]["weights"].flat[0] = 200      # an int16, not an int8
    assert check(tree) == (None, [("config.cnn_layers[0].weights", "holds values outside -128..127")])
    tree["config"]["cnn_layers"][0]["weights"].flat[0] = -128
    assert check(tree)[1] == []


def test_what_the_schema_allows_but_nothing_can_run_is_named_by_its_path():
    from dataclasses import replace

    from dynapcnn_dsl.config import Destination
    from dynapcnn_dsl.config.runnable import check

    sequential = ROOT / "tests" / "golden" / "host-sequential.samna.json"
    configuration = from_tree(dynapcnn_dsl.Document.read(sequential).data)
    layers = list(configuration.config.cnn_layers)
    first = layers[0]
    layers[0] = replace(first, weights=first.weights[:, :1], threshold_low=None,  # type: ignore[index]
                        destinations=(Destination(enable=True, layer=12), Destination(enable=True, layer=8)))
    broken = replace(configuration, config=replace(configuration.config, cnn_layers=tuple(layers)))
    unused = [i for i, layer in enumerate(layers) if not layer.used]
    assert 8 in unused
    assert check(broken)[1] == [("config.cnn_layers[0].threshold_low", "missing")]
    layers[0] = replace(layers[0], threshold_low=-1)
    broken = replace(configuration, config=replace(configuration.config, cnn_layers=tuple(layers)))
    shape = list(first.weights.shape)  # type: ignore[union-attr]
    assert check(broken)[1] == [
        ("config.cnn_layers[0].weights", f"has shape {[shape[0], 1, *shape[2:]]}, expected {shape}"),
        ("config.cnn_layers[0].destinations[1].layer", "core 8 is not configured")]


@pytest.mark.parametrize(("edit", "path"), [
    (lambda d: d["config"]["cnn_layers"][0]["dimensions"]["stride"].pop("x"),
     "config.cnn_layers[0].dimensions.stride.x"),
    (lambda d: d["config"]["cnn_layers"][0].pop("return_to_zero"), "config.cnn_layers[0].return_to_zero"),
    (lambda d: d["config"]["cnn_layers"][0].update(output_decimator_enable=True),
     "config.cnn_layers[0].output_decimator_interval"),
    (lambda d: d["config"]["readout"].pop("threshold"), "config.readout.threshold"),
    (lambda d: d["config"]["dvs_layer"].pop("on_channel"), "config.dvs_layer.on_channel"),
    (lambda d: d["config"]["dvs_layer"]["mirror"].pop("y"), "config.dvs_layer.mirror.y"),
    (lambda d: d["config"]["dvs_layer"]["destinations"][0].pop("layer"),
     "config.dvs_layer.destinations[0].layer"),
    (lambda d: d.pop("input"), "input"),
])
def test_what_a_run_reads_and_a_document_leaves_out_is_named_missing_by_simulate(edit, path):
    """The schema lets samna keep its default for any absent key; what the simulation computes
    with and has no harmless default is refused by simulate, field by field, as the hand-written
    check before config/runnable.py named it."""
    tree = dynapcnn_dsl.Document.read(ROOT / "tests" / "golden" / "dvs-speck2f.samna.json").data
    tree["config"]["cnn_layers"][0].pop("output_decimator_interval", None)
    edit(tree)
    assert refused_by_simulate(tree) == [("simulate-document", "None", f"{path}: missing")]


def test_a_host_input_without_its_cores_is_named_missing():
    tree = dynapcnn_dsl.Document.read(min(GOLDEN, key=lambda p: p.stat().st_size)).data
    del tree["input"]["layers"]
    assert refused_by_simulate(tree) == [("simulate-document", "None", "input.layers: missing")]


def test_checking_a_tree_leaves_it_as_it_was_given():
    """The API's tree (a dict built by hand: lists, int32 arrays) is checked on a copy of what
    the reader converts: simulate does not turn the caller's lists into arrays."""
    from dynapcnn_dsl.config.reader import check_tree

    tree = dynapcnn_dsl.Document.read(min(GOLDEN, key=lambda p: p.stat().st_size)).data
    layer = tree["config"]["cnn_layers"][0]
    layer["weights"] = layer["weights"].astype(np.int32).tolist()
    layer["biases"] = layer["biases"].astype(np.int32)
    biases = layer["biases"]
    configuration, problems = check_tree(tree)
    assert problems == [] and configuration is not None
    assert isinstance(layer["weights"], list) and layer["biases"] is biases
    assert configuration.config.cnn_layers[0].weights.shape == np.asarray(layer["weights"]).shape  # type: ignore[union-attr]


def test_the_schema_verdict_kept_for_a_tree_never_outlives_an_edit():
    """`simulate` checks the tree it is handed on every call; the schema's verdict is kept for the
    tree's exact JSON text, so an edit after a good check is a different text, checked afresh;
    a numpy scalar (which the writer writes as its number) is checked as that number, every
    time."""
    from dynapcnn_dsl.config.reader import check_tree

    tree = dynapcnn_dsl.Document.read(ROOT / "tests" / "golden" / "dvs-speck2f.samna.json").data
    for _ in range(2):
        assert check_tree(tree)[1] == []
    tree["config"]["readout"]["threshold"] = 70000
    assert check_tree(tree)[1] == [("config.readout.threshold", "70000 is greater than the maximum of 65535")]
    tree["config"]["readout"]["threshold"] = True
    assert check_tree(tree)[1] == [("config.readout.threshold", "True is not of type 'integer'")]
    tree["config"]["readout"]["threshold"] = 1
    assert check_tree(tree)[1] == []
    tree["config"]["readout"]["threshold"] = np.int64(1)
    tree["config"]["readout"]["enable"] = np.bool_(True)
    for _ in range(2):
        assert check_tree(tree)[1] == []
    tree["config"]["readout"]["threshold"] = np.int64(70000)
    for _ in range(2):
        assert check_tree(tree)[1] == [("config.readout.threshold",
                                        f"{np.int64(70000)!r} is greater than the maximum of 65535")]
    tree["config"]["readout"]["threshold"] = np.bool_(True)
    assert check_tree(tree)[1] == [("config.readout.threshold",
                                    f"{np.bool_(True)!r} is not of type 'integer'")]


# ------------------------------------------------------ the API's Document reads the typed values
def test_a_document_answers_from_its_typed_values_and_config_is_its_own_tree():
    doc = dynapcnn_dsl.Document.read(ROOT / "tests" / "golden" / "host-sequential.samna.json")
    configuration = doc.configuration
    assert isinstance(configuration, Configuration)
    assert doc.chip == configuration.chip == "speck2e"
    assert repr(doc) == f"<Document speck2e: {len(configuration.used())} cores>"
    assert doc.config is doc.data["config"]                   # the same dicts: an edit is kept
    doc.config["cnn_layers"][0].pop("dimensions")
    assert repr(doc) == f"<Document speck2e: {len(configuration.used()) - 1} cores>"


def test_simulate_takes_a_documents_typed_values_and_checks_them_as_a_tree():
    from dataclasses import replace

    doc = dynapcnn_dsl.Document.read(min(GOLDEN, key=lambda p: p.stat().st_size))
    configuration = doc.configuration
    same = dynapcnn_dsl.simulate(configuration, ONE_EVENT, record="all")
    assert same.summary == doc.simulate(ONE_EVENT, record="all").summary
    readout = replace(configuration.config.readout, enable=True, threshold=70000)  # type: ignore[arg-type]
    edited = replace(configuration, config=replace(configuration.config, readout=readout))
    assert refused_by_simulate(edited) == [
        ("simulate-document", "None", "config.readout.threshold: 70000 is greater than the maximum of 65535")]
