"""The network language as pydantic models: the structure of a `network.yaml`.

The models check *shape* only: which keys exist, their types and fixed choices. Hardware ranges
(kernel 1..16, pooling 1/2/4, ...) are design rules in `dynapcnn_dsl.rules`, so each has a stable
id and a hint, and chip-specific limits come from the chip profile. The ranges are still written
into the JSON schema (from the same chip data) so editors flag them while typing.

Every field carries a description: it is the hover text in editors and the language reference.

Short forms are normalised here, once, when a model is validated, so every later phase sees one
shape: a destination written as a name is a `Destination` (an input destination an
`InputDestination`), and a per-axis value written as one number is an `XY`. What was written is
kept only where diagnostics need it (`name_path`, `XY.per_axis`).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Discriminator, Field, Tag, create_model, field_validator
from pydantic_core import PydanticCustomError

from dynapcnn_dsl.chips import chip_names, resolve_chip, shared_limits
from dynapcnn_dsl.load.source import NodePath
from dynapcnn_dsl.strict import StrictModel

LIMITS = shared_limits()
DSL_VERSION = 1


def _range(lo: int, hi: int) -> dict[str, Any]:
    return {"minimum": lo, "maximum": hi}


def _choices(values: tuple[int, ...]) -> dict[str, Any]:
    return {"enum": list(values)}


_Node = StrictModel
"""Every node of the language: strict types, no unknown keys (shared with template files)."""


class XY(_Node):
    """A value per axis."""

    x: int = Field(description="Value along x (width).")
    y: int = Field(description="Value along y (height).")

    def pair(self) -> tuple[int, int]:
        return self.x, self.y

    def per_axis(self) -> list[tuple[str | None, int]]:
        """What to check, as written: [("x", x), ("y", y)], or [(None, v)] for one number
        (the axis is also the last step of the value's path)."""
        return [("x", self.x), ("y", self.y)]


class BothAxes(XY):
    """The normal form of a per-axis value written as one number (never read from a file)."""

    def per_axis(self) -> list[tuple[str | None, int]]:
        return [(None, self.x)]


@lru_cache(maxsize=256)
def _both(value: int) -> BothAxes:
    """Nodes are immutable, so one instance per value serves every core (validation stays
    about as fast as without normalising: constructing nodes is what costs)."""
    return BothAxes.model_construct(x=value, y=value)


def _both_axes(value: int | XY | None) -> XY | None:
    """The after-validator of every per-axis field: one shape, XY, for the phases after."""
    return _both(value) if isinstance(value, int) else value


def _int_or_mapping(value: Any) -> str:
    return "xy" if isinstance(value, dict | XY) else "int"


def _per_axis(name: str, schema: dict[str, Any]) -> Any:
    """An int that applies to both axes, or {x, y}: `stride: 2` or `stride: {x: 2, y: 1}`.

    Each use gets its own XY subclass so the schema carries the range on x and y too.
    """
    per_axis = create_model(
        name, __base__=XY, __doc__=f"{name[:-2]} per axis.",
        x=(int, Field(description="Value along x (width).", json_schema_extra=schema)),
        y=(int, Field(description="Value along y (height).", json_schema_extra=schema)),
    )
    return Annotated[
        Annotated[int, Tag("int"), Field(json_schema_extra=schema)] | Annotated[per_axis, Tag("xy")],
        Discriminator(_int_or_mapping),
    ]


Stride = _per_axis("StrideXY", _choices(LIMITS.stride))
Padding = _per_axis("PaddingXY", _range(*LIMITS.padding))
DvsPool = _per_axis("PoolXY", _choices(LIMITS.dvs_pool))

STRIDE_DOC = "Convolution stride: one value for both axes, or {x, y}. Each 1, 2, 4 or 8."
PADDING_DOC = "Zero padding: one value for both axes, or {x, y}. Each 0..7."
DVS_POOL_DOC = "DVS only: sum pooling of the sensor events, one value or {x, y}; each 1, 2 or 4."


class Conv(_Node):
    """The core's convolution: square kernel, per-axis stride and padding."""

    out_channels: int = Field(
        description="Output features of the core (1..1024).", json_schema_extra=_range(*LIMITS.features),
    )
    in_channels: int | None = Field(
        default=None,
        description="Input features. Normally omitted: the linker infers it from the sources; "
        "an explicit value that disagrees is an error.",
        json_schema_extra=_range(*LIMITS.features),
    )
    kernel: int = Field(
        description="Square kernel size (1..16); may come from `defaults.conv.kernel`.",
        json_schema_extra=_range(*LIMITS.kernel),
    )
    stride: Stride = Field(default=1, description=STRIDE_DOC, validate_default=True)
    padding: Padding = Field(default=0, description=PADDING_DOC, validate_default=True)
    bias: bool = Field(
        default=False,
        description="Whether the core has a bias. The chip adds the bias through its leak path "
        "once per slow-clock tick, so a bias turns on leak_enable (as sinabs does).",
    )

    _normal_axes = field_validator("stride", "padding")(_both_axes)


class ConvDefaults(_Node):
    """Convolution settings shared by every core (each core may override them)."""

    kernel: int | None = Field(
        default=None, description="Default square kernel size (1..16).",
        json_schema_extra=_range(*LIMITS.kernel),
    )
    stride: Stride | None = Field(default=None, description=STRIDE_DOC)
    padding: Padding | None = Field(default=None, description=PADDING_DOC)
    bias: bool | None = Field(default=None, description="Default for `conv.bias`.")


BELOW_ZERO = {"exclusiveMaximum": 0}
"""min_v_mem for editors: below 0, and 0 itself refused (a known chip bug), as the rule says."""


class Neuron(_Node):
    """Integrate-and-fire neurons. Values are in the units of the float weights and are
    quantized with them (or taken as integers with `quantize: none`)."""

    threshold: float = Field(
        default=1.0, description="Firing threshold (threshold_high); must be above 0.",
    )
    min_v_mem: float | None = Field(
        default=None,
        description="Lower bound of the membrane state (threshold_low); below 0 (0 is a known "
        "chip bug). Default: minus the threshold, never the 16-bit minimum, which would force "
        "the quantization scale to 1.",
        json_schema_extra=BELOW_ZERO,
    )
    reset: Literal["subtract", "zero"] = Field(
        default="subtract",
        description="After a spike: `subtract` the threshold (return_to_zero false) or set the "
        "state to `zero` (return_to_zero true).",
    )
    initial_state: float = Field(
        default=0.0, description="Initial membrane state of every neuron (neurons_initial_value).",
    )
    weights: str | None = Field(
        default=None,
        description="State-dict prefix of the model's spiking layer (a sinabs IAF/LIF module): "
        "threshold and min_v_mem are read from `<prefix>.spike_threshold` and "
        "`<prefix>.min_v_mem`, which sinabs saves in every checkpoint. The core then writes "
        "neither, and `defaults:` neuron values do not apply to it.",
    )

    def given(self, key: str) -> bool:
        """Whether the file wrote `key` for this neuron (not its default)."""
        return key in self.model_fields_set


class NeuronDefaults(_Node):
    """Neuron settings shared by every core (each core may override them)."""

    threshold: float | None = Field(default=None, description="Default firing threshold.")
    min_v_mem: float | None = Field(default=None, description="Default lower state bound (below 0).",
                                    json_schema_extra=BELOW_ZERO)
    reset: Literal["subtract", "zero"] | None = Field(default=None, description="Default reset.")
    initial_state: float | None = Field(default=None, description="Default initial state.")


class _Named(_Node):
    """A reference to a core, written in the long form {core: ...}."""

    def name_path(self, path: NodePath) -> NodePath:
        """Where the name is written, given the entry's path: its `core:` value."""
        return (*path, "core")


class _WrittenAsName:
    """Mixed into the normal form of a reference written as a bare name (never read from a
    file: built by `_long_forms`)."""

    def name_path(self, path: NodePath) -> NodePath:
        """Where the name is written: the entry itself."""
        return path


def _long_forms(model: type[_Named]) -> Any:
    """An after-validator turning every bare name of a list into `model`'s long form (a
    subclass that remembers the name was bare; defaults filled in, no second validation)."""
    bare = type(f"{model.__name__}Name", (_WrittenAsName, model), {"__doc__": _WrittenAsName.__doc__})
    named = lru_cache(maxsize=1024)(lambda name: bare.model_construct(core=name))  # immutable

    def normal(entries: list[Any]) -> list[Any]:
        return [named(e) if isinstance(e, str) else e for e in entries]
    return normal


class Destination(_Named):
    """Long form of a destination: the receiving core with this link's pooling and shift."""

    core: str = Field(description="The receiving core (a core name, or `readout`).")
    pool: int = Field(
        default=1,
        description="Sum pooling applied to events sent on this link: 1, 2 or 4 (same in x and y).",
        json_schema_extra=_choices(LIMITS.pool),
    )
    feature_shift: int | None = Field(
        default=None,
        description="Offset added to the feature index of every event on this link (0..1023). "
        "Normally omitted: the linker computes it for `merge: concat` receivers.",
        json_schema_extra=_range(*LIMITS.feature_shift),
    )
    average: bool = Field(
        default=False,
        description="The model averages here (AvgPool2d(pool)) where the chip only sums: the "
        "receiver's weights for the input features this link fills are divided by pool*pool "
        "before quantization, as sinabs does.",
    )


def _name_or_mapping(value: Any) -> str:
    return "long" if isinstance(value, dict | BaseModel) else "name"


DestinationRef = Annotated[
    Annotated[str, Tag("name")] | Annotated[Destination, Tag("long")],
    Discriminator(_name_or_mapping),
    Field(description="A destination: a core name (or `readout`), or {core, pool, feature_shift, "
          "average}."),
]


class BatchNorm(_Node):
    """A BatchNorm2d after the core's convolution, folded into it (eval mode)."""

    weights: str = Field(
        description="State-dict prefix of the BatchNorm2d: `<prefix>.weight`, `.bias`, "
        "`.running_mean` and `.running_var` (`.num_batches_tracked` is ignored).",
    )
    eps: float = Field(default=1e-5, description="The BatchNorm's eps (torch's default 1e-5).",
                       json_schema_extra={"exclusiveMinimum": 0})


BatchNormRef = Annotated[
    Annotated[str, Tag("name")] | Annotated[BatchNorm, Tag("long")],
    Discriminator(_name_or_mapping),
    Field(description="A BatchNorm2d after the convolution, folded into it: its state-dict "
          "prefix, or {weights, eps}. Its shift becomes the core's bias, which the chip applies "
          "through the leak."),
]


def _batchnorm_long_form(ref: str | BatchNorm | None) -> BatchNorm | None:
    """`batchnorm: P` is `{weights: P}` with torch's eps: later phases see one form."""
    return BatchNorm.model_construct(weights=ref) if isinstance(ref, str) else ref  # no second validation


class Core(_Node):
    """One core: convolution -> integrate-and-fire neurons -> per-destination sum pooling."""

    index: int | None = Field(
        default=None,
        description="Pin to a physical core 0..8. Omitted: the linker places the core.",
        json_schema_extra=_range(0, LIMITS.cores - 1),
    )
    conv: Conv = Field(description="The convolution of this core.")
    neuron: Neuron = Field(default_factory=Neuron, description="The neurons of this core.")
    weights: str | None = Field(
        default=None,
        description="State-dict prefix of this core's tensors: `<prefix>.weight` and "
        "`<prefix>.bias`. Default: the core's name.",
    )
    batchnorm: BatchNormRef | None = Field(
        default=None,
        description="A BatchNorm2d after this core's convolution in the model: its state-dict "
        "prefix, or {weights, eps}. It is folded into the convolution as torch's "
        "fuse_conv_bn_weights does; its shift becomes the core's bias (applied through the leak).",
    )
    monitor: bool = Field(
        default=False,
        description="Copy this core's output events to the host (monitor_enable); monitored "
        "events are not pooled.",
    )
    to: list[DestinationRef] = Field(
        default_factory=list,
        description="Where this core's events go: at most 2 destinations, each a core name, "
        "`readout`, or {core, pool, feature_shift}.",
        json_schema_extra={"maxItems": LIMITS.destinations},
    )
    merge: Literal["sum", "concat"] = Field(
        default="sum",
        description="How several sources combine: `sum` adds them (a residual; equal features "
        "and map size) or `concat` stacks their features in `from:` order by feature shifts.",
    )
    from_: list[str] | None = Field(
        default=None,
        alias="from",
        description="The sources of this core in order. Required for `merge: concat` (it fixes "
        "the feature order); optional for `sum`.",
    )
    decimator: int | None = Field(
        default=None,
        description="speck2e/2f only: keep 1 output event in N (output_decimator_enable); N is "
        "2, 4, 8, 16, 32, 128, 256 or 512.",
        json_schema_extra=_choices(LIMITS.decimator_ratios),
    )
    congestion_balancer: bool = Field(
        default=False,
        description="speck2e/2f only: turn on the input congestion balancer of this core.",
    )
    kill_features: list[int] = Field(
        default_factory=list,
        description="dynapcnn/speck2b only: output features whose weights, bias and neurons are "
        "disabled by the kill bits.",
    )

    _normal_to = field_validator("to")(_long_forms(Destination))
    _normal_batchnorm = field_validator("batchnorm")(_batchnorm_long_form)


class Defaults(_Node):
    """Settings merged under every core; a core's own value wins."""

    conv: ConvDefaults | None = Field(default=None, description="Default convolution settings.")
    neuron: NeuronDefaults | None = Field(default=None, description="Default neuron settings.")
    monitor: bool | None = Field(default=None, description="Default for `monitor`.")


class InputDestination(_Named):
    """Long form of an input destination. The input layer has no per-link pooling or shift."""

    core: str = Field(description="The core that receives the input events.")


InputDestinationRef = Annotated[
    Annotated[str, Tag("name")] | Annotated[InputDestination, Tag("long")],
    Discriminator(_name_or_mapping),
    Field(description="A core name, or {core}."),
]


class Crop(_Node):
    """Region of interest, in pooled coordinates."""

    origin: XY = Field(description="First kept pixel {x, y} (0..127).")
    size: XY = Field(description="Kept width and height {x, y}.")


class Flip(_Node):
    """Mirroring of the sensor events (applied after cropping)."""

    x: bool = Field(default=False, description="Mirror along x.")
    y: bool = Field(default=False, description="Mirror along y.")
    diagonal: bool = Field(default=False, description="Swap x and y (mirror_diagonal).")


class Input(_Node):
    """Where events enter the chip: written by the host, or from the on-chip DVS sensor."""

    source: Literal["host", "dvs"] = Field(
        description="`host`: events written by the host; `dvs`: the on-chip sensor.",
    )
    shape: list[int] = Field(
        description="Input shape [channels, height, width]; the map is at most 128x128.",
        json_schema_extra={"minItems": 3, "maxItems": 3},
    )
    to: list[InputDestinationRef] = Field(
        description="The cores that receive the input: at most 2.",
        json_schema_extra={"minItems": 1, "maxItems": LIMITS.destinations},
    )
    pool: DvsPool | None = Field(default=None, description=DVS_POOL_DOC)
    crop: Crop | None = Field(default=None, description="DVS only: region of interest.")
    flip: Flip | None = Field(default=None, description="DVS only: mirroring.")
    polarity: Literal["both", "on", "off", "merge"] = Field(
        default="both",
        description="DVS only: which polarities pass (`on`, `off`, `both` as two channels) or "
        "`merge` to fold both into one channel.",
    )
    monitor: bool = Field(
        default=False, description="DVS only: copy the pre-processed events to the host.",
    )

    _normal_to = field_validator("to")(_long_forms(InputDestination))
    _normal_pool = field_validator("pool")(_both_axes)

    def pooling(self) -> tuple[int, int]:
        """The DVS pooling (x, y): (1, 1) when not pooled."""
        return self.pool.pair() if isinstance(self.pool, XY) else (1, 1)


class Readout(_Node):
    """The readout: classes taken from one core's output features (destination layer 12)."""

    from_: str = Field(alias="from", description="The core whose output features are the classes.")
    classes: int = Field(
        description="Number of classes (1..15; sources disagree between 15 and 16).",
        json_schema_extra=_range(1, LIMITS.readout_classes),
    )
    threshold: int = Field(
        default=0, description="Readout threshold (16-bit).",
        json_schema_extra=_range(*LIMITS.neuron_state),
    )
    errata_remap: bool | None = Field(
        default=None,
        description="Place class k on feature 4*(k-1) of the feeding core, as the speck2e/2f "
        "router requires. Default: true on speck2e/2f.",
    )
    low_pass_filter: Literal[1, 16, 32] = Field(
        default=16, description="Low-pass window in slow-clock periods: 1 (off), 16 or 32.",
    )
    monitor: bool = Field(
        default=False,
        description="Monitor the readout; this hides every other monitored event.",
    )


def _chip_spellings() -> list[str]:
    return sorted({n for chip in _all_chips() for n in (chip.id, *chip.aliases, *chip.boards)})


def _chip_schema() -> dict[str, Any]:
    """Every spelling of a chip, in any case, as the tool reads them (`Speck2fModuleDevKit`,
    `SPECK2F`): a JSON schema `enum` is case-sensitive, so a pattern says it; `examples` keep
    the canonical spellings for editors' completion."""
    def any_case(name: str) -> str:
        return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in name)

    spellings = sorted({n.lower() for n in _chip_spellings()})
    return {"pattern": f"^({'|'.join(any_case(n) for n in spellings)})$",
            "examples": sorted(chip.id for chip in _all_chips())}


def _all_chips() -> list[Any]:
    from dynapcnn_dsl.chips import profiles

    return list(profiles().values())


class Network(_Node):
    """A network file: one chip, its input, its cores and optionally a readout."""

    dsl: int = Field(
        description="Language version of this file; this tool reads version 1.",
        json_schema_extra={"enum": [DSL_VERSION]},
    )
    name: str | None = Field(default=None, description="Free-text name of the network.")
    chip: str = Field(
        description="Target chip: speck2f, speck2e, speck2b or dynapcnn; board names such as "
        "speck2fmodule or dynapcnndevkit are accepted.",
        json_schema_extra=_chip_schema(),
    )
    allow_recurrent: bool = Field(
        default=False,
        description="Allow cycles between cores (the hardware allows them, but they may "
        "deadlock the chip). Cycles are then warnings, not errors.",
    )
    quantize: Literal["auto", "none"] = Field(
        default="auto",
        description="`auto`: quantize float weights per core as sinabs does; `none`: the "
        "weights file and thresholds already hold the chip's integers.",
    )
    input: Input = Field(description="Where events enter the chip.")
    defaults: Defaults | None = Field(
        default=None, description="Settings merged under every core.",
    )
    cores: dict[str, Core] = Field(
        description="The cores, by name; the name is used in every reference.",
        json_schema_extra={"minProperties": 1},
    )
    readout: Readout | None = Field(
        default=None, description="Classes read from one core's output features.",
    )

    @field_validator("dsl")
    @classmethod
    def _known_version(cls, value: int) -> int:
        if value != DSL_VERSION:
            raise PydanticCustomError(
                "dsl-version", "this tool reads dsl version {expected}; the file says {found}",
                {"expected": DSL_VERSION, "found": value},
            )
        return value

    @field_validator("chip")
    @classmethod
    def _known_chip(cls, value: str) -> str:
        chip = resolve_chip(value)
        if chip is None:
            raise PydanticCustomError(
                "unknown-chip", "unknown chip '{found}'", {"found": value, "choices": sorted(chip_names())},
            )
        return chip.id
