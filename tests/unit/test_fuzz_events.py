"""A fuzz of events files (issue 19): a few thousand random mutations of valid `.npy` and `.npz`
files (structured, columns, dense) read in-process, each ending in events or an EventsError,
the events then simulated (or refused with a SimulationError); a sample of them run through the
command line, each ending in exit 0, 1 or 2: never an internal error (3), a traceback or a
signal. Seeded: a failure names the seed and the case that reproduce it."""

from __future__ import annotations

import io
import re
import zipfile

import numpy as np
import pytest
from simulate_docs import core, document

from dynapcnn_dsl.cli import main
from dynapcnn_dsl.config.writer import to_json
from dynapcnn_dsl.simulator import EventsError, SimulationError, read_events, simulate_document

SEED = 19
CASES = 2000
CLI_EVERY = 100
ROW = np.dtype([("t", "<i8"), ("x", "<i2"), ("y", "<i2"), ("p", "<i1")])
DOC = document({0: core(2, 4, 4, 2, 1, weights=np.full((2, 2, 1, 1), 5).tolist())}, shape=(2, 4, 4))


def _npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


def _npz(arrays: dict[str, np.ndarray], method: int) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, arr in arrays.items():
            zf.writestr(f"{name}.npy", _npy(arr))
    return buf.getvalue()


def seeds() -> list[tuple[str, bytes, int | None]]:
    """(suffix, valid bytes, bin width or None): every form the reader takes."""
    rng = np.random.default_rng(0)
    rows = np.zeros(40, ROW)
    rows["t"] = np.sort(rng.integers(0, 5000, 40))
    rows["x"], rows["y"], rows["p"] = rng.integers(0, 4, 40), rng.integers(0, 4, 40), rng.integers(0, 2, 40)
    columns = {k: rows[k].astype(np.int64) for k in "txyp"}
    dense = rng.integers(0, 3, (5, 2, 4, 4)).astype(np.uint8)
    return [(".npy", _npy(rows), None), (".npz", _npz(columns, zipfile.ZIP_DEFLATED), None),
            (".npz", _npz(columns, zipfile.ZIP_STORED), None),
            (".npz", _npz({"ev": rows}, zipfile.ZIP_STORED), None),
            (".npy", _npy(dense), 1000), (".npz", _npz({"d": dense}, zipfile.ZIP_DEFLATED), 250)]


HEADER_EDITS = [(rb"\(\d+,?\)", [b"(300000000,)", b"(-1,)", b"(4,)", b"(99999999999999999999,)", b"()"]),
                (rb"\(\d+, \d+, \d+, \d+\)", [b"(5, 2, 4, 4000000)", b"(0, 2, 4, 4)", b"(5, 2, -4, 4)",
                                              b"(5, 2, 4)", b"(2**62, 1, 1, 1)"]),
                (rb"'\|u1'|'<i8'|'<i2'|'\|i1'", [b"'|O'", b"'<f8'", b"'>i8'", b"'<u8'", b"'|b1'", b"'<c16'",
                                                 b"'V24'", b"'<M8[s]'"]),
                (rb"'fortran_order': False", [b"'fortran_order': True", b"'fortran_order': 1"])]


def mutate(rng: np.random.Generator, data: bytes) -> bytes:
    raw = bytearray(data)
    for _ in range(int(rng.integers(1, 4))):
        kind = int(rng.integers(0, 7))
        if kind == 0 and raw:                                   # flip bytes
            for _ in range(int(rng.integers(1, 8))):
                raw[int(rng.integers(0, len(raw)))] ^= 1 << int(rng.integers(0, 8))
        elif kind == 1 and raw:                                 # interesting bytes
            i = int(rng.integers(0, len(raw)))
            raw[i:i + 8] = bytes([int(rng.choice([0, 0x7F, 0x80, 0xFF]))]) * len(raw[i:i + 8])
        elif kind == 2:                                         # truncate
            raw = raw[: int(rng.integers(0, len(raw) + 1))]
        elif kind == 3 and raw:                                 # duplicate a chunk
            i, j = sorted(int(v) for v in rng.integers(0, len(raw), 2))
            raw[j:j] = raw[i:j][:256]
        elif kind == 4:                                         # insert random bytes
            i = int(rng.integers(0, len(raw) + 1))
            raw[i:i] = rng.integers(0, 256, int(rng.integers(1, 16))).astype(np.uint8).tobytes()
        else:                                                   # edit the .npy header's text
            pattern, choices = HEADER_EDITS[int(rng.integers(0, len(HEADER_EDITS)))]
            new = choices[int(rng.integers(0, len(choices)))]
            raw = bytearray(re.sub(pattern, lambda _m, new=new: new, bytes(raw), count=1))
    return bytes(raw)


def test_mutated_events_files_end_in_events_or_a_diagnostic(tmp_path, capsys):
    rng = np.random.default_rng(SEED)
    forms = seeds()
    config = tmp_path / "c.json"
    config.write_text(to_json(DOC), encoding="utf-8")
    outcomes = {"read": 0, "refused": 0, "simulated": 0}
    for case in range(CASES):
        suffix, valid, bin_us = forms[case % len(forms)]
        path = tmp_path / f"ev{suffix}"
        path.write_bytes(mutate(rng, valid))
        where = f"seed {SEED}, case {case} ({suffix}, bin_us={bin_us})"
        try:
            events = read_events(path, bin_us=bin_us)
        except EventsError as exc:
            assert exc.diagnostics and all(d.is_error for d in exc.diagnostics), where
            outcomes["refused"] += 1
        except Exception as exc:   # the point: nothing else may escape
            pytest.fail(f"{where}: {type(exc).__name__}: {exc}")
        else:
            outcomes["read"] += 1
            if len(events) <= 5_000:
                try:
                    simulate_document(DOC, events)
                    outcomes["simulated"] += 1
                except SimulationError:
                    pass
        if case % CLI_EVERY == 0:
            argv = ["simulate", str(config), "--events", str(path)]
            argv += ["--bin-us", str(bin_us)] if bin_us else []
            with pytest.raises(SystemExit) as exit_:
                main(argv)
            out = capsys.readouterr()
            assert exit_.value.code in (0, 1, 2), f"{where}: {out.err}"
            assert "internal error" not in out.err and "Traceback" not in out.err, where
    # the mutations reach every outcome: not all refused at the first byte, not all accepted
    assert min(outcomes.values()) > 50, outcomes
