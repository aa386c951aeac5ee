"""Phase 4: design rules. Importing this package registers every built-in rule.

The modules are listed explicitly (as yamllint does) so the registry's order, and therefore the
order of diagnostics for one position, is stable. `link_*` modules hold link-stage rules.
"""

from dynapcnn_dsl.rules import (  # noqa: F401  (imported to register their rules)
    checkpoint,
    chip_options,
    conv,
    cores,
    destinations,
    input,
    link_average,
    link_memory,
    link_merges,
    link_references,
    link_shapes,
    merge,
    neuron,
    readout,
)
from dynapcnn_dsl.rules.registry import (
    BUILD,
    LINK,
    MODEL,
    REGISTRY,
    Finding,
    Rule,
    RuleContext,
    apply,
    cannot_disable,
    catalogue,
    rule,
    run_rules,
)

__all__ = ["BUILD", "LINK", "MODEL", "REGISTRY", "Finding", "Rule", "RuleContext", "apply",
           "cannot_disable", "catalogue", "rule", "run_rules"]
