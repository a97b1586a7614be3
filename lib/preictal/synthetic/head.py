"""Electrode geometry, spatial kernels and channel labels of the synthetic EEG model.

Everything here is fixed (no randomness, no patient parameters): the 21 electrodes at idealised
10-20 positions on a unit sphere, their distance matrix, the spatial mixing kernel that makes the
background correlated across the scalp, the helpers that turn a distance into electrode weights,
and the parsing of CHB-MIT channel labels into derivations (bipolar, referential, dummy, ECG, VNS).
The other model modules index electrodes through ``IDX`` and ``ELECTRODES``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "DIST",
    "ELECTRODES",
    "ELECTRODE_POSITIONS_2D",
    "ELECTRODE_POSITIONS_3D",
    "EVENT_WEIGHT_MIN",
    "IDX",
    "MIX",
    "N_EL",
    "POS",
    "REFERENCE_NAMES",
    "SPATIAL_LENGTH",
    "Derivation",
    "check_electrodes",
    "listed_electrodes",
    "mix_into",
    "parse_label",
    "sph_to_xyz",
    "weights_near",
]

# ---------------------------------------------------------------------------------------------
# Electrodes and positions
# ---------------------------------------------------------------------------------------------

ELECTRODES: tuple[str, ...] = (
    "FP1", "FP2", "F3", "F4", "F7", "F8", "FZ", "C3", "C4", "CZ", "P3",
    "P4", "P7", "P8", "PZ", "O1", "O2", "T7", "T8", "FT9", "FT10",
)  # fmt: skip

# Idealised 10-20 positions on the unit sphere: (polar angle from the vertex, azimuth from the
# nasion direction, positive towards the right ear), both in degrees.  F3/F4/P3/P4 are the
# normalised midpoints of FZ-F7, FZ-F8, PZ-P7, PZ-P8 (their 10-20 definition).
_SPHERICAL_DEG: dict[str, tuple[float, float]] = {
    "FP1": (72.0, -18.0), "FP2": (72.0, 18.0),
    "F7": (72.0, -54.0), "F8": (72.0, 54.0),
    "T7": (72.0, -90.0), "T8": (72.0, 90.0),
    "P7": (72.0, -126.0), "P8": (72.0, 126.0),
    "O1": (72.0, -162.0), "O2": (72.0, 162.0),
    "FZ": (36.0, 0.0), "CZ": (0.0, 0.0), "PZ": (36.0, 180.0),
    "C3": (36.0, -90.0), "C4": (36.0, 90.0),
    "FT9": (108.0, -72.0), "FT10": (108.0, 72.0),
}  # fmt: skip
_MIDPOINTS = {"F3": ("FZ", "F7"), "F4": ("FZ", "F8"), "P3": ("PZ", "P7"), "P4": ("PZ", "P8")}


def sph_to_xyz(theta_deg: float, phi_deg: float) -> np.ndarray:
    """Unit vector of (polar angle from the vertex, azimuth from the nasion) in degrees."""
    th, ph = math.radians(theta_deg), math.radians(phi_deg)
    return np.array([math.sin(th) * math.sin(ph), math.sin(th) * math.cos(ph), math.cos(th)])


def _build_positions() -> np.ndarray:
    xyz = {name: sph_to_xyz(*ang) for name, ang in _SPHERICAL_DEG.items()}
    for name, (a, b) in _MIDPOINTS.items():
        mid = xyz[a] + xyz[b]
        xyz[name] = mid / np.linalg.norm(mid)
    return np.array([xyz[name] for name in ELECTRODES])


POS = _build_positions()  # [n_electrodes, 3], x = right, y = anterior (nasion), z = up
IDX = {name: i for i, name in enumerate(ELECTRODES)}
DIST = np.linalg.norm(POS[:, None, :] - POS[None, :, :], axis=-1)  # chord, head radii
N_EL = len(ELECTRODES)


def check_electrodes(names: Sequence[str], what: str) -> None:
    """ValueError unless ``names`` is a non-empty list of :data:`ELECTRODES` entries."""
    if len(names) == 0:
        raise ValueError(f"{what} must name at least one electrode")
    for name in names:
        if name not in IDX:
            raise ValueError(f"{what}: unknown electrode {name!r} (use uppercase 10-20 names)")


#: 3-D positions on the unit sphere (unit = head radius); x right, y anterior, z up.
ELECTRODE_POSITIONS_3D: dict[str, tuple[float, float, float]] = {
    name: (float(p[0]), float(p[1]), float(p[2])) for name, p in zip(ELECTRODES, POS, strict=True)
}


def _project_2d(p: np.ndarray) -> tuple[float, float]:
    # azimuthal equidistant projection from the vertex; radius 1 = 90 degrees from CZ
    r = math.acos(max(-1.0, min(1.0, float(p[2])))) / (math.pi / 2)
    az = math.atan2(float(p[0]), float(p[1]))
    return (r * math.sin(az), r * math.cos(az))


#: 2-D topographic positions (x right, y anterior; the 72-degree ring FP1...O1 lies at r = 0.8).
ELECTRODE_POSITIONS_2D: dict[str, tuple[float, float]] = {
    name: _project_2d(p) for name, p in zip(ELECTRODES, POS, strict=True)
}

# ---------------------------------------------------------------------------------------------
# Spatial kernels
# ---------------------------------------------------------------------------------------------

SPATIAL_LENGTH = 1.0  # background correlation length (head radii), kernel exp(-d / L)
EVENT_WEIGHT_MIN = 0.1  # electrodes listed in an event carry at least this share of its peak


def _sqrt_kernel(length: float) -> np.ndarray:
    # symmetric square root of the correlation kernel exp(-d / length)
    c = np.exp(-DIST / length)
    w, v = np.linalg.eigh(c)
    m = (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T
    return m / np.sqrt(np.sum(m * m, axis=1, keepdims=True))  # unit row norm: unit variance


#: Mixing matrix: MIX @ (independent unit sources) has correlation exp(-d / SPATIAL_LENGTH).
MIX = _sqrt_kernel(SPATIAL_LENGTH)


def mix_into(out: np.ndarray, sources: Sequence[np.ndarray], scale: np.ndarray) -> None:
    """out[e] += scale[e] * sum_k MIX[e, k] * sources[k] (element-wise, deterministic)."""
    for k, src in enumerate(sources):
        for e in range(N_EL):
            w = MIX[e, k] * scale[e]
            if abs(w) > 1e-4 * abs(scale[e]) and w != 0.0:
                out[e] += np.float32(w) * src


def weights_near(center: str, length: float) -> np.ndarray:
    """Gaussian spatial field exp(-(d / length)^2) around electrode ``center``."""
    return np.exp(-((DIST[IDX[center]] / length) ** 2))


def listed_electrodes(weights: np.ndarray) -> list[str]:
    """Electrodes that an event lists: |weight| >= EVENT_WEIGHT_MIN x peak."""
    peak = float(np.max(np.abs(weights)))
    return [ELECTRODES[i] for i in np.flatnonzero(np.abs(weights) >= EVENT_WEIGHT_MIN * peak)]


# ---------------------------------------------------------------------------------------------
# Channel labels
# ---------------------------------------------------------------------------------------------

#: Second half of a referential label that denotes the common reference ("FP1-REF", "FP1-CS2").
REFERENCE_NAMES: tuple[str, ...] = ("REF", "CS2")
_ALIASES = {"T3": "T7", "T4": "T8", "T5": "P7", "T6": "P8"}


@dataclass(frozen=True)
class Derivation:
    """How one channel label is derived: kind in bipolar/referential/dummy/ecg/vns."""

    kind: str
    plus: str | None = None
    minus: str | None = None

    @property
    def electrodes(self) -> tuple[str, ...]:
        return tuple(e for e in (self.plus, self.minus) if e is not None)


def _electrode(name: str) -> str | None:
    name = _ALIASES.get(name, name)
    return name if name in IDX else None


def parse_label(label: str) -> Derivation:
    """Parse a CHB-MIT channel label (case-insensitive); ValueError for unknown labels.

    "A-B" bipolar, "A" / "A-REF" / "A-CS2" referential, "-" and "." dummy, "ECG"/"EKG", "VNS".
    """
    text = str(label).strip().upper()
    if text in ("-", "."):
        return Derivation("dummy")
    if text in ("ECG", "EKG"):
        return Derivation("ecg")
    if text == "VNS":
        return Derivation("vns")
    parts = text.split("-")
    if len(parts) == 1 and (e := _electrode(parts[0])):
        return Derivation("referential", e)
    if len(parts) == 2:
        a = _electrode(parts[0])
        if a and parts[1] in REFERENCE_NAMES:
            return Derivation("referential", a)
        b = _electrode(parts[1])
        if a and b and a != b:
            return Derivation("bipolar", a, b)
    raise ValueError(f"unknown channel label {label!r}")
