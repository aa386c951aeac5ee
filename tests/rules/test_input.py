"""Rules of `dynapcnn_dsl.rules.input`: input-shape, input-dvs-only, dvs-chip, dvs-pool,
dvs-polarity-channels, dvs-crop."""

from __future__ import annotations

import pytest
from helpers import check_model as check  # model-stage rules, tested without the linker
from helpers import found_model as found
from helpers import only_model as only

TEMPLATE = """\
dsl: 1
chip: {chip}
input:
  source: {source}
  shape: {shape}
  to: [a]
{extra}cores:
  a: {{conv: {{out_channels: 4, kernel: 1}}}}
"""


def net(shape: str = "[2, 128, 128]", extra: str = "", source: str = "dvs",
        chip: str = "speck2f") -> str:
    """`shape` is line 5 (its list starts at column 10); `extra` lines start at line 7."""
    return TEMPLATE.format(chip=chip, source=source, shape=shape, extra=extra)


def host(shape: str = "[1, 16, 16]", extra: str = "") -> str:
    return net(shape, extra, source="host")


# -- input-shape ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("shape", "n"), [("[1, 16]", 2), ("[1, 16, 16, 1]", 4), ("[]", 0)])
def test_input_shape_needs_three_entries(shape, n):
    d = only(host(shape))
    assert (str(d.position), d.code) == ("5:10", "input-shape")
    assert d.message == f"the input shape has {n} entries; it needs 3: [channels, height, width]"
    assert d.hint == "write `shape: [channels, height, width]` with a map of at most 128x128"


def test_input_shape_each_bad_entry_at_its_value():
    diags = check(host("[0, 129, 0]")).diagnostics
    assert [(str(d.position), d.code) for d in diags] == [
        ("5:11", "input-shape"), ("5:14", "input-shape"), ("5:19", "input-shape")]
    assert [d.message for d in diags] == [
        "the input has 0 channels; allowed 1..1024",
        "the input height is 129; the chip takes 1..128",
        "the input width is 0; the chip takes 1..128",
    ]


def test_input_shape_too_many_channels():
    d = only(host("[1025, 1, 1]"))
    assert (str(d.position), d.code) == ("5:11", "input-shape")


@pytest.mark.parametrize("shape", ["[1024, 128, 128]", "[1, 1, 1]", "[3, 128, 1]"])
def test_input_shape_bounds_pass(shape):
    assert found(host(shape)) == []


def test_input_shape_block_list():
    text = host("\n    - 1\n    - 16\n    - 200")
    assert found(text) == [("8:7", "input-shape")]


# -- input-dvs-only ------------------------------------------------------------------------------

@pytest.mark.parametrize("line", [
    "  pool: 2\n",
    "  crop: {origin: {x: 0, y: 0}, size: {x: 1, y: 1}}\n",
    "  flip: {x: true}\n",
    "  polarity: on\n",
    "  monitor: true\n",
])
def test_input_dvs_only_options_on_host_input_at_the_key(line):
    key = line.split(":")[0].strip()
    d = only(host(extra=line))
    assert (str(d.position), d.code) == ("7:3", "input-dvs-only")
    assert d.message == f"`{key}` applies only to `source: dvs`"
    assert d.hint == ("pool, crop, flip, polarity and monitor describe the DVS layer: set "
                      "`source: dvs` or remove them")


def test_input_dvs_only_accepts_an_explicit_default_on_host_input():
    # Writing the default (`polarity: both`, `monitor: false`) changes nothing: no finding.
    assert found(host(extra="  polarity: both\n  monitor: false\n")) == []


def test_input_dvs_only_reports_a_non_default_value_on_host_input():
    assert found(host(extra="  polarity: merge\n  monitor: true\n")) == [
        ("7:3", "input-dvs-only"), ("8:3", "input-dvs-only")]


def test_input_dvs_only_options_on_dvs_input_pass():
    extra = ("  pool: 1\n  crop: {origin: {x: 0, y: 0}, size: {x: 128, y: 128}}\n"
             "  flip: {x: true, y: false, diagonal: true}\n  polarity: both\n  monitor: true\n")
    assert found(net(extra=extra)) == []


# -- dvs-chip ------------------------------------------------------------------------------------

def test_dvs_chip_warns_on_dynapcnn():
    result = check(net(chip="dynapcnn"))
    assert [(str(d.position), d.code) for d in result.diagnostics] == [
        ("2:7", "legacy-chip"), ("4:11", "dvs-chip")]
    d = result.diagnostics[1]
    assert d.severity.value == "warning"
    assert d.message == "dynapcnn has no on-chip DVS sensor"
    assert d.hint == "this chip has no on-chip sensor: events must come from an external DVS on the devkit"
    assert result.ok


def test_dvs_chip_host_input_on_dynapcnn_passes():
    assert found(host(extra="").replace("chip: speck2f", "chip: dynapcnn")) == [("2:7", "legacy-chip")]


@pytest.mark.parametrize(("chip", "expected"), [
    ("speck2f", []), ("speck2e", []), ("speck2b", [("2:7", "legacy-chip")]),
])
def test_dvs_chip_chips_with_a_sensor_pass(chip, expected):
    assert found(net(chip=chip)) == expected


# -- dvs-pool ------------------------------------------------------------------------------------

def test_dvs_pool_single_value():
    d = only(net(extra="  pool: 3\n"))
    assert (str(d.position), d.code) == ("7:9", "dvs-pool")
    assert d.message.endswith("3 is not 1, 2 or 4")
    assert d.hint == "use DVS pooling of 1, 2 or 4 on each axis"


def test_dvs_pool_single_value_message_names_no_axis():
    assert only(net(extra="  pool: 3\n")).message == "DVS pool 3 is not 1, 2 or 4"


def test_dvs_pool_per_axis_at_the_axis():
    d = only(net(extra="  pool: {x: 4, y: 8}\n"))
    assert (str(d.position), d.code) == ("7:19", "dvs-pool")
    assert d.message == "DVS pool y 8 is not 1, 2 or 4"


def test_dvs_pool_both_axes():
    assert found(net(extra="  pool: {x: 3, y: 8}\n")) == [("7:13", "dvs-pool"), ("7:19", "dvs-pool")]


@pytest.mark.parametrize("pool", ["1", "2", "4", "{x: 1, y: 4}"])
def test_dvs_pool_allowed_pass(pool):
    assert found(net(extra=f"  pool: {pool}\n")) == []


# -- dvs-polarity-channels -----------------------------------------------------------------------

@pytest.mark.parametrize(("polarity", "channels", "want", "plural"), [
    ("both", 1, 2, "s"), ("on", 2, 1, ""), ("off", 2, 1, ""), ("merge", 2, 1, ""),
])
def test_dvs_polarity_channels_mismatch_at_the_channel_count(polarity, channels, want, plural):
    d = only(net(f"[{channels}, 128, 128]", f"  polarity: {polarity}\n"))
    assert (str(d.position), d.code) == ("5:11", "dvs-polarity-channels")
    assert d.message == (f"`polarity: {polarity}` gives {want} channel{plural}; "
                         f"the shape says {channels}")
    assert d.hint == "`polarity: both` gives 2 channels; `on`, `off` and `merge` give 1"


def test_dvs_polarity_channels_default_is_both():
    assert found(net("[1, 128, 128]")) == [("5:11", "dvs-polarity-channels")]


@pytest.mark.parametrize(("polarity", "channels"), [("both", 2), ("on", 1), ("off", 1), ("merge", 1)])
def test_dvs_polarity_channels_match_pass(polarity, channels):
    assert found(net(f"[{channels}, 128, 128]", f"  polarity: {polarity}\n")) == []


def test_dvs_polarity_channels_host_input_is_not_checked():
    assert found(host("[3, 16, 16]")) == []


# -- dvs-crop ------------------------------------------------------------------------------------

def crop(origin: str, size: str, pool: str = "") -> str:
    """Line 7 (or 8 after a pool line) is `  crop: {origin: {x: ., y: .}, size: {x: ., y: .}}`."""
    return net(extra=pool + f"  crop: {{origin: {origin}, size: {size}}}\n")


def test_dvs_crop_whole_map_passes():
    assert found(crop("{x: 0, y: 0}", "{x: 128, y: 128}")) == []


def test_dvs_crop_last_pixel_passes():
    assert found(crop("{x: 127, y: 127}", "{x: 1, y: 1}")) == []


def test_dvs_crop_past_the_map_at_the_size():
    d = only(crop("{x: 1, y: 0}", "{x: 128, y: 128}"))
    assert (str(d.position), d.code) == ("7:42", "dvs-crop")
    assert d.message == "crop x covers 1..128, past the pooled map of 128"
    assert d.hint == "crop is in pooled coordinates: keep origin + size within the pooled sensor map"


def test_dvs_crop_is_in_pooled_coordinates():
    assert found(crop("{x: 0, y: 0}", "{x: 64, y: 64}", "  pool: 2\n")) == []
    d = only(crop("{x: 0, y: 0}", "{x: 64, y: 65}", "  pool: 2\n"))
    assert (str(d.position), d.code) == ("8:49", "dvs-crop")
    assert d.message == "crop y covers 0..64, past the pooled map of 64"


def test_dvs_crop_per_axis_pooling():
    assert found(crop("{x: 0, y: 0}", "{x: 32, y: 128}", "  pool: {x: 4, y: 1}\n")) == []
    assert found(crop("{x: 0, y: 0}", "{x: 33, y: 128}", "  pool: {x: 4, y: 1}\n")) == [
        ("8:42", "dvs-crop")]


def test_dvs_crop_origin_outside_the_sensor():
    diags = check(crop("{x: 128, y: -1}", "{x: 1, y: 1}")).diagnostics
    assert [(str(d.position), d.code) for d in diags] == [("7:22", "dvs-crop"), ("7:30", "dvs-crop")]
    assert [d.message for d in diags] == ["crop origin x 128 is outside 0..127",
                                          "crop origin y -1 is outside 0..127"]


def test_dvs_crop_empty_size():
    d = only(crop("{x: 0, y: 0}", "{x: 0, y: 1}"))
    assert (str(d.position), d.code) == ("7:42", "dvs-crop")
    assert d.message == "crop size x 0 must be at least 1"
