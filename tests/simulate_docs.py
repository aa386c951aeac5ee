"""Configuration documents for the simulator's tests, written as `build` writes them
(emit/configuration.py's layout), so a test can set any field the language may not reach."""

from __future__ import annotations

from typing import Any

import numpy as np

FORMAT = "dynapcnn-dsl/samna-configuration"


def xy(x: int, y: int) -> dict[str, int]:
    return {"x": x, "y": y}


def dest(layer: int, pool: int = 1, shift: int = 0) -> dict[str, Any]:
    return {"enable": True, "layer": layer, "pooling": pool, "feature_shift": shift}


def core(
    cin: int,
    h: int,
    w: int,
    f: int,
    k: int,
    *,
    stride: tuple[int, int] = (1, 1),
    padding: tuple[int, int] = (0, 0),
    weights: Any = None,
    threshold: int = 10,
    low: int = -10,
    zero: bool = False,
    bias: Any = None,
    leak: bool = False,
    monitor: bool = True,
    to: tuple[dict[str, Any], ...] = (),
    decimate: int | None = None,
    initial: int = 0,
    rng: np.random.Generator | None = None,
    wrange: tuple[int, int] = (-6, 9),
) -> dict[str, Any]:
    """One cnn layer; random weights from `rng` unless `weights` ([f][c][kx][ky]) is given."""
    sx, sy = stride
    px, py = padding
    ho, wo = (h + 2 * py - k) // sy + 1, (w + 2 * px - k) // sx + 1
    if weights is None:
        weights = (rng or np.random.default_rng(0)).integers(*wrange, (f, cin, k, k))
    slots = [*to, {"enable": False}, {"enable": False}][:2]
    layer = {
        "dimensions": {
            "input_shape": {"feature_count": cin, "size": xy(w, h)},
            "output_shape": {"feature_count": f, "size": xy(wo, ho)},
            "padding": xy(px, py),
            "stride": xy(sx, sy),
            "kernel_size": k,
        },
        "weights": np.asarray(weights, np.int32),
        "biases": np.asarray(bias if bias is not None else np.zeros(f), np.int32),
        "neurons_initial_value": np.full((f, wo, ho), initial, np.int32),
        "threshold_high": threshold,
        "threshold_low": low,
        "return_to_zero": zero,
        "leak_enable": leak,
        "monitor_enable": monitor,
        "destinations": slots,
        "input_congestion_balancer_enable": False,
        "output_decimator_enable": decimate is not None,
        "output_decimator_interval": (2, 4, 8, 16, 32, 128, 256, 512).index(decimate) if decimate else 0,
    }
    return layer


def unused() -> dict[str, Any]:
    return {"destinations": [{"enable": False}, {"enable": False}], "monitor_enable": False}


def dvs_layer(
    *,
    to: tuple[int, ...] = (0,),
    pool: tuple[int, int] = (1, 1),
    origin: tuple[int, int] = (0, 0),
    cut: tuple[int, int] = (127, 127),
    mirror: tuple[bool, bool] = (False, False),
    diagonal: bool = False,
    merge: bool = False,
    on: bool = True,
    off: bool = True,
    monitor: bool = True,
) -> dict[str, Any]:
    return {
        "pass_sensor_events": True,
        "destinations": [{"enable": True, "layer": t} for t in to] + [{"enable": False}] * (2 - len(to)),
        "pooling": xy(*pool),
        "origin": xy(*origin),
        "cut": xy(*cut),
        "mirror": {"x": mirror[0], "y": mirror[1]},
        "mirror_diagonal": diagonal,
        "merge": merge,
        "on_channel": on,
        "off_channel": off,
        "monitor_enable": monitor,
    }


def document(
    cores: dict[int, dict[str, Any]],
    *,
    shape: tuple[int, int, int],
    layers: tuple[int, ...] = (0,),
    dvs: dict[str, Any] | None = None,
    readout: dict[str, Any] | None = None,
    chip: str = "speck2f",
    names: dict[int, str] | None = None,
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "format": FORMAT,
        "version": 1,
        "chip": chip,
        "source": {"network": "t.yaml", "weights": "t.npz"},
        "input": {"source": "dvs" if dvs else "host", "shape": list(shape), "layers": list(layers)},
        "config": {
            "cnn_layers": [cores.get(i, unused()) for i in range(9)],
            "dvs_layer": dvs
            or {
                "pass_sensor_events": False,
                "destinations": [{"enable": False}, {"enable": False}],
                "monitor_enable": False,
            },
        },
    }
    if readout is not None:
        doc["config"]["readout"] = readout
    if names:
        doc["annotations"] = {"cnn_layers": [{"core": names[i]} if i in names else None for i in range(9)]}
    return doc


def readout(threshold: int = 0, window: int = 16) -> dict[str, Any]:
    return {
        "enable": True,
        "threshold": threshold,
        "low_pass_filter_disable": window == 1,
        "low_pass_filter32_not16": window == 32,
        "monitor_enable": False,
    }


def events(rows: list[tuple[int, int, int, int]]) -> dict[str, np.ndarray]:
    arr = np.asarray(rows, np.int64).reshape(-1, 4)
    return {"t": arr[:, 0], "x": arr[:, 1], "y": arr[:, 2], "p": arr[:, 3]}


def random_events(
    rng: np.random.Generator, n: int, shape: tuple[int, int, int], span_us: int = 10_000
) -> dict[str, np.ndarray]:
    c, h, w = shape
    return {
        "t": np.sort(rng.integers(0, span_us, n)),
        "x": rng.integers(0, w, n),
        "y": rng.integers(0, h, n),
        "p": rng.integers(0, c, n),
    }
