"""The catalogue of diagnostic codes that are not design rules.

A diagnostic's code is a promise to users: they search for it, switch rules off by it, and
scripts match it in `--format json`. So every code the package can emit is registered once,
with the stage that emits it, its severity and what it means, as pyflakes registers every
message in one module. The design rules register themselves (`dynapcnn_dsl.rules.registry`);
every other code (the loader's, the language's, the templates', the weights', the
configuration reader's, samna's, the importer's, the simulator's, compare's) is an entry here.
`dynapcnn_dsl.rules.registry.catalogue()` is the one list of both, which `dynapcnn-dsl rules
--all` prints.

The emitting modules still spell their codes as strings; `tests/unit/test_codes.py` reads the
package's source, finds every code handed to a `Diagnostic` (directly or through a helper that
takes a code), and fails, naming the file and line, for one that is not registered here or as a
rule; it also fails for an entry nothing emits, and docs/diagnostics.md must document each one.
Adding a code is: emit it, add its entry here, document it.

This module is shared values (below every phase): it imports only `diagnostics`.
"""

from __future__ import annotations

from typing import NamedTuple

from dynapcnn_dsl.diagnostics import Severity

E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

API, LOAD, LANGUAGE, EXPAND, WEIGHTS, CONFIG, SAMNA, IMPORT, SIMULATE, COMPARE, EVALUATE = (
    "api", "load", "language", "expand", "weights", "config", "samna", "import", "simulate", "compare",
    "evaluate")

STAGES = (API, LOAD, LANGUAGE, EXPAND, "model", "link", "build", WEIGHTS, CONFIG, SAMNA, SIMULATE,
          IMPORT, COMPARE, EVALUATE)
"""Every stage, in the order a file meets them: the Python API's checks of its arguments come
first, and the design rules' stages (model, link, build) sit between the language and the
weights."""


class Code(NamedTuple):
    """One registered diagnostic code: where it comes from, how bad it is, what it means.

    `severity` is the one the code is emitted with; `import-shared` alone is also an error
    (when the calls of a shared module need more cores than the chip has)."""

    id: str
    stage: str
    severity: Severity
    meaning: str
    rule: bool = False   # a design rule (listed by the rule registry, can be `--disable`d)


_ENTRIES = (
    # -- api: what the Python API is handed (dynapcnn_dsl/api.py) --------------------------------
    Code("api-argument", API, E, "An option of the Python API of the wrong type."),
    # -- load: reading the bytes of a network or template file (dynapcnn_dsl/load) -------------
    Code("file-unreadable", LOAD, E, "The file does not exist, is a directory, or cannot be read."),
    Code("file-too-large", LOAD, E, "The file is over 1 MiB: nothing of it is parsed."),
    Code("file-encoding", LOAD, E, "The file is not UTF-8."),
    Code("yaml-syntax", LOAD, E, "The file is not valid YAML."),
    Code("json-syntax", LOAD, E, "A .json network file is not valid JSON (NaN and Infinity refused)."),
    Code("yaml-tag", LOAD, E, "A YAML tag: nothing is ever constructed from a tag."),
    Code("yaml-alias", LOAD, E, "A YAML alias: refused before it is expanded."),
    Code("yaml-duplicate-key", LOAD, E, "The same key twice in one mapping."),
    Code("yaml-complex-key", LOAD, E, "A mapping key that is itself a list or a mapping."),
    Code("yaml-depth", LOAD, E, "Nesting deeper than 64 levels."),
    Code("number-range", LOAD, E, "An integer beyond 64 bits."),
    Code("yaml-multiple-documents", LOAD, E, "A second YAML document after `---`."),
    Code("empty-document", LOAD, E, "The file is empty, or holds only comments."),
    # -- language: the file against the language's schema (dynapcnn_dsl/strict) --------------
    Code("unknown-key", LANGUAGE, E, "A key the language does not have."),
    Code("missing-key", LANGUAGE, E, "A required key is missing."),
    Code("wrong-type", LANGUAGE, E, "A value of the wrong type."),
    Code("invalid-choice", LANGUAGE, E, "A value outside a fixed set of choices."),
    Code("invalid-value", LANGUAGE, E, "A value the schema refuses for another reason."),
    Code("unknown-chip", LANGUAGE, E, "`chip` names no chip this tool knows."),
    Code("dsl-version", LANGUAGE, E, "A language version this tool does not read."),
    # -- expand: template instances (dynapcnn_dsl/expand) -------------------------------------
    Code("template-not-found", EXPAND, E, "No template of that name where templates are looked up."),
    Code("template-invalid", EXPAND, E, "The template file does not load or does not follow the format."),
    Code("template-param", EXPAND, E, "A `with:` value of the wrong type, out of bounds or not a choice."),
    Code("template-param-missing", EXPAND, E, "A parameter without a default is not given."),
    Code("template-param-unknown", EXPAND, E, "`with:` names a parameter the template does not declare."),
    Code("template-weights-unknown", EXPAND, E, "`weights:` names a core the template does not have."),
    Code("template-pool", EXPAND, E, "An entry's pooling declared twice, by the entry and the link."),
    Code("template-name-collision", EXPAND, E, "An instance expands into a core name already taken."),
    Code("template-expression", EXPAND, E, "A ${...} that is not integer arithmetic over parameters."),
    Code("template-reference", EXPAND, E, "A template's core sends to a name that is not one of its cores."),
    Code("template-entry", EXPAND, E, "The template's entry or exit names a core it does not have."),
    Code("template-recursion", EXPAND, E, "A template uses itself, directly or not."),
    Code("template-depth", EXPAND, E, "Templates nest more than eight deep."),
    Code("template-size", EXPAND, E, "Expanding takes the network past the language's core bound."),
    # -- weights: reading a weights file and binding it to the cores (dynapcnn_dsl/weights) ----
    Code("weights-unreadable", WEIGHTS, E, "The weights file does not exist or cannot be read."),
    Code("weights-format", WEIGHTS, E, "The file is no format read: torch, safetensors or .npz."),
    Code("weights-corrupt", WEIGHTS, E, "The file has a known format but is truncated or damaged."),
    Code("weights-too-large", WEIGHTS, E, "The file declares more entries than a chip's weights can need."),
    Code("weights-unsafe", WEIGHTS, E, "The file asks to build Python objects (pickle, object arrays)."),
    Code("weights-key", WEIGHTS, E, "A checkpoint without a (right) `--key`, or `--key` for a flat format."),
    Code("weights-torch-missing", WEIGHTS, E, "Reading a torch file needs torch, which is not installed."),
    Code("weights-missing", WEIGHTS, E, "A core's tensor is not in the file."),
    Code("weights-unused", WEIGHTS, W, "Tensors in the file that no core uses."),
    Code("weights-shape", WEIGHTS, E, "A tensor's shape is not what the core needs."),
    Code("weights-reshaped", WEIGHTS, INFO, "A Linear layer's weight bound as a whole-map convolution."),
    Code("weights-bias-unexpected", WEIGHTS, E, "The file has a bias the core does not declare."),
    Code("weights-batchnorm", WEIGHTS, E, "A BatchNorm after a core's convolution that no core folds."),
    Code("weights-batchnorm-leak", WEIGHTS, W, "A folded BatchNorm's shift is added by the leak, per tick."),
    Code("weights-min-v-mem", WEIGHTS, E, "`neuron: {weights: P}` and the file has no P.min_v_mem."),
    Code("weights-neuron", WEIGHTS, E, "A neuron parameter from the checkpoint that cannot be a core's."),
    Code("weights-states", WEIGHTS, INFO, "Saved membrane potentials in the checkpoint are not used."),
    Code("weights-shared", WEIGHTS, W, "Several cores use the same prefix, so the same tensors."),
    Code("weights-non-finite", WEIGHTS, E, "A tensor holds NaN or infinite values."),
    Code("weights-dtype", WEIGHTS, E, "A tensor does not hold real numbers numpy can hold."),
    Code("weights-not-integer", WEIGHTS, E, "`quantize: none` and a tensor has fractional values."),
    Code("weights-range", WEIGHTS, E, "`quantize: none` and an integer leaves the chip's range."),
    Code("quantize-all-zero", WEIGHTS, E, "Every weight of a core would round to 0."),
    Code("quantize-threshold", WEIGHTS, E, "At the core's scale the threshold or min_v_mem is out of range."),
    # -- config: reading a configuration document (dynapcnn_dsl/config) ------------------------
    Code("document-unreadable", CONFIG, E, "The configuration document cannot be read."),
    Code("document-json", CONFIG, E, "The configuration document is not valid JSON."),
    Code("document-format", CONFIG, E, "A JSON file without the configuration document's format header."),
    Code("document-invalid", CONFIG, E, "The document does not match its schema."),
    # -- samna: handing a configuration to samna (dynapcnn_dsl/samna_bridge.py) ----------------
    Code("document-chip", SAMNA, E, "The document names a chip this tool does not know."),
    Code("document-structure-only", SAMNA, E, "The document was built without weights: nothing to load."),
    Code("samna-missing", SAMNA, E, "samna (for this chip) cannot be imported."),
    Code("samna-rejected", SAMNA, E, "samna refused a value of the document."),
    Code("samna-invalid", SAMNA, E, "samna's validate_configuration refused the configuration."),
    # -- simulate: running a configuration on events (dynapcnn_dsl/simulator) -------------------
    Code("simulate-document", SIMULATE, E, "The configuration document cannot be simulated."),
    Code("simulate-structure-only", SIMULATE, E, "The document was built without weights."),
    Code("simulate-events-read", SIMULATE, E, "The events file cannot be read."),
    Code("simulate-events-fields", SIMULATE, E, "The events are not integer t, x, y, p of one length."),
    Code("simulate-events-size", SIMULATE, E, "The events would pass the simulator's bound."),
    Code("simulate-events-time", SIMULATE, E, "A negative or unsorted event time, or a bad time option."),
    Code("simulate-events-map", SIMULATE, E, "An event outside the input map."),
    Code("simulate-sensor-placement", SIMULATE, E, "An invalid sensor placement, or one for host input."),
    Code("simulate-budget", SIMULATE, E, "The routing budget is not a positive count."),
    Code("simulate-slow-clock", SIMULATE, E, "A slow clock rate out of range, or too many ticks."),
    Code("simulate-runaway", SIMULATE, E, "A loop of destinations routed more events than the budget."),
    Code("simulate-output-names", SIMULATE, E, "A core name that clashes with the results' own names."),
    Code("simulate-too-many-events", SIMULATE, E, "The recorded events would pass the simulator's bound."),
    Code("simulate-leak-no-clock", SIMULATE, W, "A core leaks but no slow clock was given."),
    Code("simulate-congestion-balancer", SIMULATE, W, "The congestion balancer is not simulated."),
    Code("simulate-kill-bits", SIMULATE, W, "Kill bits are not simulated."),
    # -- import: decompiling a model, a NIR file or a configuration (dynapcnn_dsl/importer) ----
    Code("import-source", IMPORT, E, "The source could not be read or traced."),
    Code("import-document", IMPORT, W, "A document holds per-neuron values the language states per core."),
    Code("import-sinabs", IMPORT, W, "A sinabs DynapcnnNetwork lacks something the network decides."),
    Code("import-prefix", IMPORT, INFO, "The model's tensors are under a prefix in the checkpoint."),
    Code("import-thresholds", IMPORT, INFO, "The checkpoint has no neuron parameters: the model's are kept."),
    Code("import-host-input", IMPORT, INFO, "A samna configuration object without an input section."),
    Code("import-nir-value", IMPORT, W, "A value NIR cannot carry, chosen as sinabs's from_nir does."),
    Code("import-unsupported", IMPORT, E, "An operation no core or link computes."),
    Code("import-kernel", IMPORT, E, "A convolution the chip's cores cannot compute."),
    Code("import-pool", IMPORT, E, "A pooling a destination cannot do."),
    Code("import-merge", IMPORT, E, "A combination of sources a core's input cannot be."),
    Code("import-no-neuron", IMPORT, E, "A convolution and a neuron that do not make a core."),
    Code("import-batchnorm", IMPORT, E, "A BatchNorm that does not follow a convolution directly."),
    Code("import-dangling", IMPORT, E, "An operation that no convolution reads."),
    Code("import-destinations", IMPORT, E, "A neuron's spikes read by more than two cores."),
    Code("import-shared", IMPORT, W, "A module called more than once: a core per call."),
    Code("import-output-neuron", IMPORT, W, "The model ends without a neuron: one is added."),
    Code("import-min-v-mem", IMPORT, W, "The model's neuron has no lower bound: minus the threshold."),
    # -- compare: a network against the model it came from (dynapcnn_dsl/verify/compare.py) -----
    Code("compare-bins", COMPARE, E, "A bin width out of range, or too many time bins."),
    Code("compare-model-failed", COMPARE, E, "The model's own code raised on the binned events."),
    # -- evaluate: a configuration over a labelled dataset (dynapcnn_dsl/evaluation) ------------
    Code("evaluate-dataset", EVALUATE, E, "The dataset cannot be read (not a folder, a bad labels.csv)."),
    Code("evaluate-dataset-empty", EVALUATE, E, "The dataset holds no recordings."),
    Code("evaluate-dataset-labels", EVALUATE, E, "Recordings with nothing to say their label."),
    Code("evaluate-output", EVALUATE, E, "Nothing decides a recording's class (no readout, no single core)."),
    Code("evaluate-jobs", EVALUATE, E, "A number of worker processes below 1."),
    Code("evaluate-scheduler", EVALUATE, E, "The Dask scheduler cannot be reached (or dask is missing)."),
    Code("evaluate-model", EVALUATE, E, "The torch model cannot run beside the chip."),
    Code("evaluate-plot", EVALUATE, E, "`--plot` needs matplotlib, which is not installed."),
)

CODES: dict[str, Code] = {}
"""Every code that is not a design rule, by id."""

for _code in _ENTRIES:
    if _code.id in CODES:
        raise ValueError(f"diagnostic code {_code.id!r} registered twice")
    CODES[_code.id] = _code
del _code
