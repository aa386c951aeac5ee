"""Chip facts: the one place the language knows about the hardware. Data only, no logic.

Sources: Speck2e/et/f datasheet v1.02, samna 0.48.5 API reference, Speck dev kit datasheet
(2023), sinabs' dynapcnn backend; see shared/HARDWARE.md. Where sources disagree, the comment
says which value is used and why. (A Python literal rather than TOML: it loads in microseconds,
which matters for `validate` in editors and pre-commit hooks.)
"""

# Limits shared by every 9-core chip.
LIMITS = {
    "cores": 9,
    "kernel": (1, 16),                 # square kernels only
    "stride": (1, 2, 4, 8),            # per axis
    "padding": (0, 7),                 # per axis
    "features": (1, 1024),             # input and output features of a core
    "input_map": 128,                  # largest input map per axis
    "output_map": 64,                  # largest conv output map per axis (before pooling)
    "pool": (1, 2, 4),                 # destination sum pooling, same in x and y
    "dvs_pool": (1, 2, 4),             # DVS pooling, per axis
    "feature_shift": (0, 1023),
    "destinations": 2,                 # per core, and for the DVS / input layer
    "threshold_high": (0, 32767),      # 16-bit neuron state
    "threshold_low": (-32768, -1),     # 0 is not allowed: a known chip bug
    "neuron_state": (-32768, 32767),
    "weight_bits": 8,
    "bias_bits": 16,                   # memory word; sinabs quantizes biases to 8 bits (parity)
    "readout_classes": 15,             # sources say 15, 16 and "< 15": the strictest sure bound
    "readout_layer": 12,               # destination layer id of the readout
    "readout_errata_spacing": 4,       # speck2e/2f errata: class k is read from feature 4*(k-1)
    "readout_threshold": (-32768, 65535),  # "16-bit" (HARDWARE.md), signedness undocumented: a
                                       # document may hold either reading (samna's own may be
                                       # unsigned); the language writes -32768..32767, and the
                                       # simulator compares it as the signed number it is
    "dvs_monitor_layer": 13,
    "dvs_sensor_size": 128,
    "decimator_ratios": (2, 4, 8, 16, 32, 128, 256, 512),  # output_decimator_interval 0..7
    "leak_unreliable_cores": (0, 1),   # datasheet: leak broken on 0, 1 (one report: it works)
    "input_preferred_cores": (0, 1),   # compute in parallel; suit input layers (a preference)
}

# Bounds of the language itself, not of a chip: how much work a file may ask of the tool.
# Each is far beyond any real network and turns a hostile or runaway file into a positioned
# error instead of minutes of work or gigabytes of memory.
LANGUAGE = {
    "expanded_cores": 10_000,          # cores after template expansion (a chip has 9; a network
                                       # checked before it is split over chips may have thousands)
    "template_depth": 8,               # templates within templates
    "int_max": 2**63 - 1,              # magnitude of any integer in a file or computed by ${...}
    "float_max": 3.4028234663852886e38,  # float32's largest: later phases compute in float32
}

# Bounds of the host tools (simulate, compare, import) on what an input may ask of them: events
# and NIR files, options. Each is checked against what the input DECLARES (an .npy header, a zip
# member's size, an HDF5 dataset's shape) before anything is allocated, so a few hostile bytes
# cost a diagnostic, not gigabytes or hours. README "Reliability" lists them.
HOST = {
    "events": 20_000_000,              # input events of one simulation (24 bytes each as read)
    "dense_entries": 2**26,            # entries of a dense [T, C, H, W] count tensor
    "ticks": 10_000_000,               # slow-clock ticks of one run (a readout row each)
    "slow_clock_hz": (1e-3, 1e9),      # the slow clock's rate: finite, a tick period in int64
    "time_us": 2**62,                  # event times and --until-us, in µs (tick arithmetic in int64)
    "bin_us": (1, 10**12),             # the width of a dense tensor's bin, in µs
    "budget": (1, 2**31 - 1),          # --budget: routed events per input event in a loop
    "nir_nodes": 10_000,               # nodes of a NIR graph (a chip has 9 cores)
    "nir_depth": 16,                   # nesting of groups in a NIR file
    "nir_read_seconds": 60,            # reading a NIR file (HDF5 loops on some damaged files)
}

# Memory per physical core, in entries (kernel 8-bit, neuron 16-bit, bias 16-bit).
MEMORY = (
    {"cores": (0, 1, 2), "kernel": 16384, "neuron": 65536, "bias": 1024},
    {"cores": (3, 4), "kernel": 32768, "neuron": 32768, "bias": 1024},
    {"cores": (5, 6), "kernel": 65536, "neuron": 16384, "bias": 1024},
    {"cores": (7, 8), "kernel": 16384, "neuron": 16384, "bias": 1024},
)

CHIPS = {
    "speck2f": {
        "samna_module": "speck2f",
        "config_class": "SpeckConfiguration",
        "dvs_sensor": True,
        "kill_bits": False,
        "readout": "usable",
        "readout_errata": True,        # class k is read from feature 4*(k-1)
        "decimator": True,
        "congestion_balancer": True,
        "legacy": False,
        "boards": ("Speck2fDevKit", "Speck2fModuleDevKit"),
        "aliases": ("speck2fdevkit", "speck2fmodule", "speck2fmoduledevkit"),
    },
    "speck2e": {
        "samna_module": "speck2e",
        "config_class": "SpeckConfiguration",
        "dvs_sensor": True,
        "kill_bits": False,
        "readout": "usable",
        "readout_errata": True,        # class k is read from feature 4*(k-1)
        "decimator": True,
        "congestion_balancer": True,
        "legacy": False,
        "boards": ("Speck2eDevKit", "Speck2eTestBoard"),
        "aliases": ("speck2edevkit", "speck2etestboard"),
    },
    "speck2b": {
        "samna_module": "speck2b",
        "config_class": "SpeckConfiguration",
        "dvs_sensor": True,
        "kill_bits": True,
        "readout": "unusable",         # listed in samna, not usable on this chip
        "readout_errata": False,
        "decimator": False,
        "congestion_balancer": False,
        "legacy": True,                # samna < 0.46 only
        "boards": ("Speck2bDevKit",),
        "aliases": ("speck2bdevkit",),
    },
    "dynapcnn": {
        "samna_module": "dynapcnn",
        "config_class": "DynapcnnConfiguration",
        "dvs_sensor": False,           # external DVS or host events
        "kill_bits": True,
        "readout": "unknown",
        "readout_errata": False,
        "decimator": False,
        "congestion_balancer": False,
        "legacy": True,                # samna < 0.46 only
        "boards": ("DynapcnnDevKit",),
        "aliases": ("dynapcnndevkit",),
    },
}
