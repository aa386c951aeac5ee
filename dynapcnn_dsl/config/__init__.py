"""The samna configuration document as frozen typed values: its model, reader, writer and schema.

    fields.py   how a field says what the document allows there (its schema, from the chip facts)
    model.py    the classes (Configuration, ChipConfig, CnnLayer, Destination, DvsLayer, Readout,
                Annotations, ...), one per object of the document, field names = samna's names
    tree.py     typed values <-> the document's tree (dicts, lists, numpy arrays)
    reader.py   bytes or a file -> a checked tree / typed values, or positioned diagnostics
    writer.py   a tree or typed values -> JSON text (tensors on one line each)
    schema.py   the draft-07 schema generated from the classes
    runnable.py what a configuration must hold to run, beyond the schema (the simulator's check)
    files.py    telling a document's file from other JSON by its first bytes or content

This package sits below emit (which builds the values) and above the chip facts (the limits);
simulate, diff, the samna bridge and the importers read its typed fields. No other module spells
the document's keys (tests/unit/test_config.py keeps it so).
"""

from dynapcnn_dsl.config.fields import ABSENT, tensors
from dynapcnn_dsl.config.model import (
    FORMAT,
    TENSORS,
    VERSION,
    WEIGHT_FIELDS,
    XY,
    Annotations,
    ChipConfig,
    CnnLayer,
    Configuration,
    CoreNote,
    Destination,
    Dimensions,
    DvsDestination,
    DvsLayer,
    Input,
    InputNote,
    Mirror,
    Readout,
    SamnaClass,
    Shape,
    Source,
    unused_layer,
)
from dynapcnn_dsl.config.tree import TreeError, from_tree, to_tree

__all__ = ["ABSENT", "FORMAT", "TENSORS", "VERSION", "WEIGHT_FIELDS", "XY", "Annotations", "ChipConfig",
           "CnnLayer", "Configuration", "CoreNote", "Destination", "Dimensions", "DvsDestination",
           "DvsLayer", "Input", "InputNote", "Mirror", "Readout", "SamnaClass", "Shape", "Source",
           "TreeError", "from_tree", "tensors", "to_tree", "unused_layer"]
