"""Verification: does the chip compute what the model computes? The simulation of a built
configuration against the torch model it was imported from, on the same events (`compare`).

This is not importing: it builds and simulates through the API, and runs the model the
importer loads and traces, so it sits above both (tests/unit/test_layers.py).
"""
