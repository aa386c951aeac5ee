"""Template files and template instances, as pydantic models (read by the expand phase).

A template file declares typed `params`, its `cores` (whose values may say `${param}` or
`${kernel // 2}`), its `entry` (the cores that receive whatever points at an instance) and its
`exit` (the core whose `to:` the instance's `to:` becomes). The cores are kept as plain data
here: they are validated as ordinary cores once substituted and scoped.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from dynapcnn_dsl.chips import shared_limits
from dynapcnn_dsl.strict import StrictModel

LIMITS = shared_limits()

TEMPLATE_VERSION = 1


class Param(StrictModel):
    """A template parameter: its type, default and bounds."""

    type: Literal["int", "float", "bool", "str"] = Field(default="int", description="Value type.")
    default: int | float | bool | str | None = Field(
        default=None, description="Value when the instance gives none; no default = required.")
    min: float | None = Field(default=None, description="Smallest allowed value (numbers).")
    max: float | None = Field(default=None, description="Largest allowed value (numbers).")
    choices: list[int | float | bool | str] | None = Field(
        default=None, description="The only allowed values.")
    description: str | None = Field(default=None, description="What the parameter means.")

    model_config = ConfigDict(json_schema_extra={  # the same rule for editors
        "if": {"properties": {"type": {"enum": ["bool", "str"], "description": "Not a number."}},
               "required": ["type"]},
        "then": {"not": {"anyOf": [{"required": ["min"]}, {"required": ["max"]}]}}})

    @model_validator(mode="after")
    def _bounds_bound_numbers(self) -> Param:
        if self.type in ("bool", "str") and (self.min is not None or self.max is not None):
            raise PydanticCustomError("param-bounds", "'min' and 'max' bound numbers; a {type} "
                                      "parameter takes `choices` instead", {"type": self.type})
        return self


class EntryRef(StrictModel):
    """An entry or exit core with the pooling of the link that reaches it (or leaves it)."""

    core: str = Field(description="A core of the template.")
    pool: (Annotated[int, Field(json_schema_extra={"enum": [*LIMITS.pool]})]
           | Annotated[str, Field(pattern=r"^\$\{.+\}$")]) = Field(
        default=1, description="Pooling on the link: 1, 2 or 4, or a ${param}.")


class TemplateFile(StrictModel):
    """A reusable group of cores."""

    template: int = Field(description="Template format version; this tool reads 1.",
                          json_schema_extra={"enum": [TEMPLATE_VERSION]})
    description: str | None = Field(default=None, description="What the template builds.")
    params: dict[str, Param] = Field(default_factory=dict, description="Typed parameters.")
    cores: dict[str, dict[str, Any]] = Field(
        description="The cores, as in a network file; values may use ${param} or ${expression}.")
    entry: list[str | EntryRef] = Field(
        description="Cores that receive what points at an instance (a main path and a skip).",
        json_schema_extra={"minItems": 1, "maxItems": LIMITS.destinations})
    exit: str | EntryRef = Field(
        description="The core whose destinations are the instance's `to:` (with its pooling).")

    @field_validator("template")
    @classmethod
    def _version(cls, value: int) -> int:
        if value != TEMPLATE_VERSION:
            raise PydanticCustomError("dsl-version", "this tool reads template version {expected}; "
                                      "the file says {found}", {"expected": TEMPLATE_VERSION,
                                                                 "found": value})
        return value


class TemplateInstance(StrictModel):
    """A core written as an instance of a template: expanded into the template's cores."""

    template: str = Field(description="The template: a .yaml/.yml file (the suffix may be left "
                          "out) next to this file or below it, in a --templates directory or among "
                          "the bundled templates; a relative path must stay inside those.")
    with_: dict[str, int | float | bool | str] = Field(
        default_factory=dict, alias="with", description="Values for the template's params.")
    to: list[Any] = Field(default_factory=list,
                          description="Where the instance's exit core sends its events.")
    weights: str | dict[str, str] | None = Field(
        default=None, description="State-dict prefix of the instance (its cores' tensors are "
        "`<prefix>.<core>.weight`), or a mapping from the template's core names to the model's "
        "own names (`{a: layer1.conv1, b: layer1.conv2}`); cores it does not name keep "
        "`<instance>.<core>`. Default: the instance's name.")
