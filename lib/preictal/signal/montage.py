"""Channel selection: the 18 canonical bipolar channels, in a fixed order, from whatever an EDF holds.

A canonical channel ``A-B`` is taken from an EDF channel of that name (case-insensitive; the first
of duplicates such as CHB-MIT's two ``T8-P8``), or derived as ``ref(A) - ref(B)`` where the file is
referential (``A``, ``A-CS2``, ``A-Ref``; chb12_27 to chb12_31). A file where some canonical channel
can be neither found nor derived is excluded. Every file gets a ledger row saying what was found,
used, dropped and derived, and why a file was excluded.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from preictal.chbmit.summary_file import CHANNEL_TYPOS, DUMMY_CHANNELS

CANONICAL_CHANNELS = (
    "FP1-F7", "F7-T7", "T7-P7", "P7-O1", "FP1-F3", "F3-C3", "C3-P3", "P3-O1", "FP2-F4",
    "F4-C4", "C4-P4", "P4-O2", "FP2-F8", "F8-T8", "T8-P8", "P8-O2", "FZ-CZ", "CZ-PZ",
)  # fmt: skip
# Labels of a referential recording: the electrode alone or against a named reference.
_REFERENTIAL = re.compile(r"^([A-Z]+[0-9]*|[A-Z]+Z)(?:-(?:CS2|REF|LE|AVG|A1|A2|M1|M2))?$")


def normalise_label(label: str) -> str:
    """Upper case, no spaces, CHB-MIT's typos fixed, MNE-style duplicate suffixes removed
    (``T8-P8-0``)."""
    text = re.sub(r"\s+", "", label).upper()
    text = "-".join(CHANNEL_TYPOS.get(part, part) for part in text.split("-"))
    m = re.match(r"^([A-Z0-9]+-[A-Z0-9]+)-\d+$", text)
    return m.group(1) if m else text


@dataclass
class MontagePlan:
    """How to build the canonical channels from a file's channels: ``canonical = weights @ data``."""

    labels: tuple[str, ...]
    weights: np.ndarray  # [18, n_labels]; rows are canonical channels
    used: list[str] = field(default_factory=list)
    derived: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    kind: str = "bipolar"  # bipolar, referential or mixed

    @property
    def excluded(self) -> bool:
        return bool(self.missing)

    @property
    def source_channels(self) -> list[int]:
        """Indices of the file channels that the weights read."""
        return [int(i) for i in np.flatnonzero(np.any(self.weights != 0, axis=0))]

    def ledger(self) -> dict:
        return {
            "montage": self.kind,
            "n_found": len(self.labels),
            "found": ",".join(self.labels),
            "used": ",".join(self.used),
            "derived": ",".join(self.derived),
            "dropped": ",".join(self.dropped),
            "excluded": self.excluded,
            "reason": (
                f"canonical channels neither present nor derivable: {', '.join(self.missing)}"
                if self.missing
                else ""
            ),
        }


def plan_montage(labels: Sequence[str]) -> MontagePlan:
    """Map a file's channel labels onto :data:`CANONICAL_CHANNELS`."""
    norm = [normalise_label(label) for label in labels]
    bipolar: dict[str, int] = {}
    referential: dict[str, int] = {}
    for i, label in enumerate(norm):
        if label in DUMMY_CHANNELS or not label:
            continue
        if label in CANONICAL_CHANNELS:
            bipolar.setdefault(label, i)  # the first of duplicates (T8-P8 twice)
        elif m := _REFERENTIAL.match(label):
            referential.setdefault(m.group(1), i)

    weights = np.zeros((len(CANONICAL_CHANNELS), len(labels)), dtype=np.float32)
    plan = MontagePlan(labels=tuple(labels), weights=weights)
    for row, channel in enumerate(CANONICAL_CHANNELS):
        a, b = channel.split("-")
        if channel in bipolar:
            weights[row, bipolar[channel]] = 1.0
            plan.used.append(labels[bipolar[channel]])
        elif a in referential and b in referential:
            weights[row, referential[a]] = 1.0
            weights[row, referential[b]] = -1.0
            plan.derived.append(f"{channel}={labels[referential[a]]}-{labels[referential[b]]}")
        else:
            plan.missing.append(channel)
    read = set(plan.source_channels)
    plan.dropped = [label for i, label in enumerate(labels) if i not in read]
    plan.kind = (
        "referential" if plan.derived and not plan.used else "mixed" if plan.derived else "bipolar"
    )
    return plan
