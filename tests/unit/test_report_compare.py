"""What `compare` prints, exactly, for values made here: the class per time window (the first
SHOWN_WINDOWS of them), the verdict over the recording, then one row per core and the run's
verdict. Pinned before the printing moved from the result class into report/comparison.py."""

from __future__ import annotations

from dynapcnn_dsl.report.comparison import comparison_text
from dynapcnn_dsl.verify.comparison import ClassComparison, Comparison, CoreComparison, WindowClass

CORES = (
    CoreComparison("c1", "s1", 1200, 1190, 0.9876, True, ""),
    CoreComparison("c2", "s2", 800, 30, 0.1234, False, "the per-neuron counts do not correlate"),
    CoreComparison("pool", None, 55, 0, None, True, "", skipped="no spiking module follows it"),
)
HEADER = "  window (ms)  chip  model  "
"""The windows' header row: its empty verdict column leaves two spaces at the end."""
WINDOWS = tuple(WindowClass(i * 10_000, (i + 1) * 10_000, 1 + i % 3, 1 + i % 2) for i in range(22))


def test_a_classifier_that_differs_prints_its_windows_and_its_cores():
    classes = ClassComparison("c2", 1, WINDOWS, 2, 1, chip_spikes=900, model_spikes=850.0)
    result = Comparison(CORES, events=5000, bins=220, bin_us=1000, classes=classes, off_sensor=12)
    assert comparison_text(result) == f"""\
class per time window (readout classes from 1 c2; '-' is no class):
{HEADER}
  0-10         1     1      agrees
  10-20        2     2      agrees
  20-30        3     1      differs
  30-40        1     2      differs
  40-50        2     1      differs
  50-60        3     2      differs
  60-70        1     1      agrees
  70-80        2     2      agrees
  80-90        3     1      differs
  90-100       1     2      differs
  100-110      2     1      differs
  110-120      3     2      differs
  120-130      1     1      agrees
  130-140      2     2      agrees
  140-150      3     1      differs
  150-160      1     2      differs
  160-170      2     1      differs
  170-180      3     2      differs
  180-190      1     1      agrees
  190-200      2     2      agrees
  ... 2 more windows
whole recording: the chip picks class 2, the model class 1: DIFFER (8 of 22 windows agree)

core  module  chip spikes  model spikes  correlation  verdict
c1    s1      1200         1190          0.988        agrees
c2    s2      800          30            0.123        DIFFERS: the per-neuron counts do not correlate
pool  -       55           -             -            skipped: no spiking module follows it
5000 events (12 off the sensor) in 220 bins of 1000 us: the chip differs from the model on 1 core(s): \
check their `average`, `batchnorm`, `from:` order and weights
"""


def test_cores_that_agree_without_classes_say_why_the_classes_were_not_compared():
    agreeing = (CORES[0], CORES[2])
    result = Comparison(agreeing, events=300, bins=3, bin_us=500, classes_skipped="the model has no head")
    assert comparison_text(result) == """\
classes not compared: the model has no head

core  module  chip spikes  model spikes  correlation  verdict
c1    s1      1200         1190          0.988        agrees
pool  -       55           -             -            skipped: no spiking module follows it
300 events in 3 bins of 500 us: the 1 core(s) with a spiking counterpart agree
"""
    quiet = ClassComparison("c1", 0, WINDOWS[:1], 1, 1, chip_spikes=3, model_spikes=2.0)
    alone = Comparison((CORES[2],), events=10, bins=1, bin_us=1000, classes=quiet)
    assert comparison_text(alone).splitlines()[-1] == (
        "10 events in 1 bins of 1000 us: the chip classifies as the model does; no core has a "
        "spiking counterpart to compare spike for spike")
    assert comparison_text(alone).splitlines()[0] == (
        "class per time window (features of c1, from 0; '-' is no class):")
