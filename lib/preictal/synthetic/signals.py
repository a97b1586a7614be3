"""Generative signal model of the synthetic CHB-MIT-like dataset (pure numerics, no file I/O).

One call of :func:`synthesize_recording` produces the EEG of one file: a spatially correlated
1/f^beta background with a posterior alpha rhythm, interictal spikes at the seizure focus,
artifacts (blinks, muscle bursts, electrode pops, amplifier drop-outs), evolving ictal
discharges with postictal slowing, and a preictal change of known size and duration before
every seizure onset.  Everything is in microvolts.  All parameters are documented in
``docs/SYNTHETIC_DATA.md``.

This module only orchestrates; the model lives in its sibling modules:

- ``head``: electrodes, positions, distances, spatial kernels, channel labels (``parse_label``);
- ``params``: ``PatientProfile``, ``PreictalEffect``, ``ArtifactRates``;
- ``noise``: coloured-noise and event-timing primitives;
- ``background``: 1/f^beta background and alpha rhythm;
- ``spikes``: interictal spikes;
- ``seizures``: preictal ramp and band power, ictal discharge, postictal slowing;
- ``artifacts``: blinks, muscle, pops, drop-outs, ECG and VNS channels.

The names in ``__all__`` stay importable from here (the stable public API).

Randomness: the caller's generator is read exactly once (four integers) to seed one independent
child stream per model component (see ``_STREAMS``).  The background, alpha, baseline spikes and
artifacts therefore never depend on where the seizures are or on the preictal effect; seizures
only *add* the ictal discharge and postictal terms, and the preictal effect only *adds* terms
scaled by ``effect_size`` (nothing at all when it is 0).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from preictal.synthetic.artifacts import (
    add_blinks,
    add_flat,
    add_muscle,
    add_pops,
    ecg_channel,
    vns_channel,
)
from preictal.synthetic.background import ALPHA_POSTICTAL_SUPPRESSION, add_alpha, add_background
from preictal.synthetic.confounds import (
    VIGILANCE_ALPHA_SUPPRESSION,
    Decoy,
    add_vigilance,
    preictal_drive,
    vigilance_envelope,
)
from preictal.synthetic.head import (
    ELECTRODE_POSITIONS_2D,
    ELECTRODE_POSITIONS_3D,
    ELECTRODES,
    IDX,
    N_EL,
    REFERENCE_NAMES,
    Derivation,
    parse_label,
)
from preictal.synthetic.noise import poisson_times
from preictal.synthetic.params import (
    PATIENT_PREICTAL_BANDS_HZ,
    SHARED_PREICTAL_BAND_HZ,
    SHARED_PREICTAL_ELECTRODES,
    ArtifactRates,
    PatientProfile,
    PreictalEffect,
)
from preictal.synthetic.seizures import (
    add_ictal_discharge,
    add_postictal_delta,
    add_preictal_band,
    check_seizures,
    postictal_envelope,
    preictal_ramp,
)
from preictal.synthetic.spikes import add_spikes

__all__ = [
    "ELECTRODES",
    "ELECTRODE_POSITIONS_2D",
    "ELECTRODE_POSITIONS_3D",
    "PATIENT_PREICTAL_BANDS_HZ",
    "REFERENCE_NAMES",
    "SHARED_PREICTAL_BAND_HZ",
    "SHARED_PREICTAL_ELECTRODES",
    "ArtifactRates",
    "Derivation",
    "PatientProfile",
    "PreictalEffect",
    "parse_label",
    "postictal_envelope",
    "preictal_ramp",
    "synthesize_recording",
]

# One independent child stream per component; append new names only at the end.
_STREAMS = (
    "background",
    "alpha",
    "spikes",
    "preictal_spikes",
    "preictal_band",
    "seizure",
    "postictal",
    "blink",
    "muscle",
    "pop",
    "flat",
    "ecg",
    "vns",
    "vigilance",
)


def synthesize_recording(
    *,
    labels: Sequence[str],
    duration_sec: float,
    sfreq: float,
    profile: PatientProfile,
    effect: PreictalEffect,
    seizures: Sequence[tuple[float, float]],
    artifacts: ArtifactRates,
    rng: np.random.Generator,
    seizure_weights: Sequence[float] | None = None,
    decoys: Sequence[Decoy] = (),
    drowsy: Sequence[tuple[float, float]] = (),
) -> tuple[np.ndarray, list[dict]]:
    """Synthesize one EEG file.

    Returns ``(data, events)``: float32 microvolts of shape ``[len(labels), round(duration *
    sfreq)]`` and the ground-truth events (dicts with kind, start_sec, end_sec, electrodes,
    channels and kind-specific extras), sorted by start time.  ``seizures`` are (onset, end) in
    seconds relative to this file's start and may lie partly or wholly outside it.  The confounds
    (``preictal.synthetic.confounds``), also relative to the file's start: ``seizure_weights``
    scale each seizure's preictal change (default 1), ``decoys`` are preictal-like episodes
    without a seizure, ``drowsy`` are drowsiness episodes.
    """
    derivations = [parse_label(label) for label in labels]
    if not sfreq > 0 or not duration_sec > 0:
        raise ValueError("sfreq and duration_sec must be > 0")
    n = round(duration_sec * sfreq)
    if n < 2:
        raise ValueError("recording must contain at least 2 samples")
    seizures = check_seizures(seizures)
    seed = np.random.SeedSequence([int(v) for v in rng.integers(0, 2**32, size=4)])
    streams = dict(
        zip(_STREAMS, (np.random.default_rng(s) for s in seed.spawn(len(_STREAMS))), strict=True)
    )
    times = np.arange(n) / sfreq
    events: list[dict] = []

    pot = np.zeros((N_EL, n), dtype=np.float32)
    add_background(pot, streams["background"], profile, sfreq)

    post = postictal_envelope(times, seizures, profile.postictal_tau_sec) if seizures else None
    vigilance = vigilance_envelope(times, drowsy) if drowsy else None
    suppression = None
    if post is not None and np.any(post > 0):
        suppression = (1.0 - ALPHA_POSTICTAL_SUPPRESSION * post).astype(np.float32)
    if vigilance is not None and np.any(vigilance > 0):
        drowsy_alpha = (1.0 - VIGILANCE_ALPHA_SUPPRESSION * vigilance).astype(np.float32)
        suppression = drowsy_alpha if suppression is None else suppression * drowsy_alpha
        add_vigilance(pot, vigilance, streams["vigilance"], profile, sfreq)
    add_alpha(pot, streams["alpha"], profile, sfreq, suppression)

    base = poisson_times(streams["spikes"], profile.spike_rate_per_h, duration_sec)
    add_spikes(pot, base, streams["spikes"], profile, sfreq, "baseline", events)

    patient_share = effect.effect_size * (1.0 - effect.shared_fraction)
    if effect.effect_size > 0 and (seizures or decoys):
        # Decoys imitate the band-power change (the patient's own band and the shared one); the
        # extra spikes come before seizures only (docs/SYNTHETIC_DATA.md).
        ramp = preictal_drive(times, seizures, effect, seizure_weights)
        drive = preictal_drive(times, seizures, effect, seizure_weights, decoys)
        add_preictal_band(pot, drive, streams["preictal_band"], profile, effect, sfreq)
        extra_rate = profile.spike_rate_per_h * effect.spike_rate_gain * patient_share
        rs = streams["preictal_spikes"]
        cand = poisson_times(rs, extra_rate, duration_sec)
        keep = rs.random(cand.size) < np.interp(cand, times, ramp)
        add_spikes(pot, cand[keep], rs, profile, sfreq, "preictal", events)

    for onset, end in seizures:
        add_ictal_discharge(pot, onset, end, streams["seizure"], profile, sfreq)
    add_postictal_delta(pot, streams["postictal"], profile, seizures, sfreq)

    add_blinks(pot, streams["blink"], artifacts.blink_per_h, sfreq, events)
    add_muscle(pot, streams["muscle"], artifacts.muscle_per_h, sfreq, events)
    add_pops(pot, streams["pop"], artifacts.pop_per_h, sfreq, events)

    data = np.empty((len(labels), n), dtype=np.float32)
    extra: dict[str, np.ndarray] = {}
    for i, d in enumerate(derivations):
        if d.kind == "bipolar":
            np.subtract(pot[IDX[d.plus]], pot[IDX[d.minus]], out=data[i])
        elif d.kind == "referential":
            data[i] = pot[IDX[d.plus]]
        elif d.kind == "dummy":
            data[i] = 0.0
        else:
            if d.kind not in extra:
                maker = ecg_channel if d.kind == "ecg" else vns_channel
                extra[d.kind] = maker(streams[d.kind], n, sfreq)
            data[i] = extra[d.kind]
    del pot

    add_flat(data, streams["flat"], artifacts.flat_per_h, duration_sec, sfreq, events)

    unique_labels = list(dict.fromkeys(labels))
    for ev in events:
        if ev["kind"] == "flat":
            ev["electrodes"] = list(ELECTRODES)
            ev["channels"] = unique_labels
            continue
        involved = set(ev["electrodes"])
        ev["channels"] = [
            lab
            for lab, d in zip(labels, derivations, strict=True)
            if involved.intersection(d.electrodes)
        ]
        ev["channels"] = list(dict.fromkeys(ev["channels"]))
    events.sort(key=lambda ev: (ev["start_sec"], ev["kind"]))
    return data, events
