"""Windows of the cached signal as a torch Dataset, its augmentations and sampler.

:class:`WindowDataset` holds only paths and numbers: one signal path per case (the float16
``[C, n_samples]`` cache), and per window its case index, first sample, labels, soft target,
weight and feature row. The memmaps are opened lazily, on first access in each process (a
DataLoader worker gets a pickled copy without them), so the dataset pickles cheaply and works
with ``num_workers > 0``. Every ``RELEASE_EVERY`` windows read, a process drops the cache pages it
has read from its resident set (they stay in the page cache): a fold over the whole CHB-MIT twin
reads some 30 GB of cache, which would otherwise count as the job's memory.

Augmentations (training only, each switchable, see :class:`Augment`) are drawn from a generator
seeded by ``(seed, epoch, window index)``: an epoch's augmented batch is the same whatever the
number of workers or the order the workers run in. Call :meth:`WindowDataset.set_epoch` before
each epoch.

Sampling: :class:`BlockShuffleSampler`. The class imbalance is handled in the loss (pos_weight),
not by resampling, so the sampler only has to shuffle; it shuffles blocks of consecutive windows
(then the windows inside each block), which keeps reads from the memmap local (neighbouring
windows overlap and share pages) when the cache is bigger than the page cache, while a batch still
mixes ``batch_size / block`` places of the recording. A class-balanced sampler on top of
pos_weight would correct the imbalance twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler, default_collate

from preictal.cache.windows import release_mapped_pages
from preictal.models.fusion.losses import sample_weights

RELEASE_EVERY = 2048  # windows read between page releases (~240 MB of 23-channel 10-s windows)


@dataclass(frozen=True)
class Augment:
    """Training-only augmentations; each is off when its parameter is 0 / False."""

    noise_std: float = 0.0  # gaussian noise, as a fraction of each channel's std in the window
    shift_max: int = 0  # time shift in samples, uniform in [-shift_max, shift_max]
    shift_mode: str = (
        "circular"  # "circular" (roll inside the window) or "window" (move in its file)
    )
    scale_range: tuple[float, float] = (1.0, 1.0)  # amplitude scale, uniform, per window
    channel_dropout: float = 0.0  # probability of zeroing each channel

    @property
    def active(self) -> bool:
        return bool(
            self.noise_std > 0
            or self.shift_max > 0
            or self.scale_range != (1.0, 1.0)
            or self.channel_dropout > 0
        )


class WindowDataset(Dataset):
    """Windows ``signal[:, start:start + window_samples]`` of the cache; ``window_samples`` is the
    window's length (``windows.w_sec * preprocess.target_sfreq``), never assumed.

    Items: dict with ``x`` float32 ``[C, window_samples]`` (``[0]`` when ``read_signal`` is off:
    a network without its spectrogram branch), ``feats`` float32 ``[F]`` (``[0]`` without
    features), ``reference`` float32 ``[C, n_freqs]`` (``[0]`` without reference stores), ``y``,
    ``y_soft``, ``w`` float32 scalars and ``index`` (int64)."""

    def __init__(
        self,
        signal_paths: Sequence[str],
        case: Sequence[int] | np.ndarray,
        start_sample: Sequence[int] | np.ndarray,
        y_cls: Sequence[int] | np.ndarray,
        *,
        window_samples: int,
        y_soft: Sequence[float] | np.ndarray | None = None,
        y_tte: Sequence[float] | np.ndarray | None = None,
        weights: Sequence[float] | np.ndarray | None = None,
        features: np.ndarray | None = None,
        preictal_min: float | None = None,
        augment: Augment | None = None,
        seed: int = 0,
        reference_paths: Sequence[str] | None = None,
        reference_rows: Sequence[int] | np.ndarray | None = None,
        read_signal: bool = True,
        shift_bounds: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
        self.signal_paths = [str(p) for p in signal_paths]
        # Per window the first and last start sample a "window" shift may move it to: its file's
        # windows' span, so that a shifted window never joins two files (or two parts).
        self.shift_bounds = (
            None
            if shift_bounds is None
            else tuple(np.asarray(b, dtype=np.int64) for b in shift_bounds)
        )
        # Patient-relative spectrogram: per case the float16 [n_windows, C, n_freqs] reference
        # store (preictal.models.fusion.reference) and per item its row there.
        self.reference_paths = (
            None if reference_paths is None else [str(p) for p in reference_paths]
        )
        if self.reference_paths is not None:
            if reference_rows is None or len(self.reference_paths) != len(self.signal_paths):
                raise ValueError("WindowDataset: a reference store per case and a row per window")
            self.reference_rows = np.asarray(reference_rows, dtype=np.int64)
        self.read_signal = bool(read_signal)
        self.case = np.asarray(case, dtype=np.int64)
        self.start_sample = np.asarray(start_sample, dtype=np.int64)
        self.y_cls = np.asarray(y_cls, dtype=np.int64)
        n = len(self.y_cls)
        if len(self.case) != n or len(self.start_sample) != n:
            raise ValueError("WindowDataset: case, start_sample and y_cls differ in length")
        if self.case.size and (self.case.min() < 0 or self.case.max() >= len(self.signal_paths)):
            raise ValueError("WindowDataset: case index out of range of signal_paths")
        self.y_soft = (
            np.zeros(n, np.float32) if y_soft is None else np.asarray(y_soft, dtype=np.float32)
        )
        if weights is not None:
            self.weights = np.asarray(weights, dtype=np.float32)
        elif y_tte is not None:
            if preictal_min is None:
                raise ValueError("WindowDataset: y_tte weights need labels.preictal_min")
            self.weights = sample_weights(self.y_cls, y_tte, preictal_min)
        else:
            self.weights = np.ones(n, np.float32)
        self.features = (
            np.zeros((n, 0), np.float32)
            if features is None
            else np.ascontiguousarray(features, dtype=np.float32)
        )
        if len(self.y_soft) != n or len(self.weights) != n or len(self.features) != n:
            raise ValueError("WindowDataset: y_soft, weights or features differ in length")
        if self.reference_paths is not None and len(self.reference_rows) != n:
            raise ValueError("WindowDataset: reference_rows differ in length")
        self.window_samples = int(window_samples)
        self.augment = augment if augment is not None and augment.active else None
        self.seed = int(seed)
        self.epoch = 0
        self._signals: list[np.ndarray] | None = None  # opened lazily, per process
        self._references: list[np.ndarray] | None = None
        self._reads = 0  # windows read since the last page release, per process

    @classmethod
    def from_frame(
        cls,
        windows,
        signal_paths: Sequence[str],
        *,
        feature_cols: Sequence[str] | None = None,
        drop_excluded: bool = True,
        **kwargs,
    ) -> WindowDataset:
        """From a window table with columns case (index into ``signal_paths``), start_sample,
        y_cls, and optionally y_soft, y_tte and ``feature_cols``. Excluded windows (y_cls -1)
        are dropped unless ``drop_excluded`` is False."""
        if drop_excluded:
            windows = windows[windows["y_cls"] != -1]
        return cls(
            signal_paths,
            windows["case"].to_numpy(),
            windows["start_sample"].to_numpy(),
            windows["y_cls"].to_numpy(),
            y_soft=windows["y_soft"].to_numpy() if "y_soft" in windows else None,
            y_tte=windows["y_tte"].to_numpy() if "y_tte" in windows else None,
            features=windows[list(feature_cols)].to_numpy() if feature_cols else None,
            **kwargs,
        )

    # -- pickling: never ship the memmaps to a worker --------------------------------------------
    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_signals"] = None
        state["_references"] = None
        state["_reads"] = 0
        return state

    @property
    def signals(self) -> list[np.ndarray]:
        if self._signals is None:
            self._signals = [np.load(p, mmap_mode="r") for p in self.signal_paths]
        return self._signals

    @property
    def references(self) -> list[np.ndarray]:
        if self._references is None:
            self._references = [np.load(p, mmap_mode="r") for p in self.reference_paths]
        return self._references

    def reference(self, i: int) -> np.ndarray:
        """Window ``i``'s reference spectrum ``[C, n_freqs]`` (float32), or ``[0]`` without."""
        if self.reference_paths is None:
            return np.zeros(0, np.float32)
        return np.asarray(self.references[self.case[i]][self.reference_rows[i]], np.float32)

    @property
    def n_features(self) -> int:
        return self.features.shape[1]

    @property
    def n_channels(self) -> int:
        return int(self.signals[0].shape[0])

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def without_augment(self) -> WindowDataset:
        """A shallow copy with augmentation off (for validation and prediction)."""
        new = object.__new__(WindowDataset)
        new.__dict__.update(self.__getstate__())
        new.augment = None
        return new

    def counts(self) -> tuple[int, int]:
        """``(n_pos, n_neg)``."""
        return int((self.y_cls == 1).sum()), int((self.y_cls == 0).sum())

    def __len__(self) -> int:
        return len(self.y_cls)

    def release_pages(self) -> None:
        """Drop this process's resident pages of every opened cache and reference store."""
        for store in (*(self._signals or ()), *(self._references or ())):
            release_mapped_pages(store)
        self._reads = 0

    def _window(self, i: int, rng: np.random.Generator | None) -> np.ndarray:
        self._reads += 1
        if self._reads >= RELEASE_EVERY:
            self.release_pages()
        sig = self.signals[self.case[i]]
        w, a = self.window_samples, int(self.start_sample[i])
        aug = self.augment
        if rng is not None and aug.shift_max > 0 and aug.shift_mode == "window":
            shift = int(rng.integers(-aug.shift_max, aug.shift_max + 1))
            lo, hi = (
                (0, sig.shape[1] - w)
                if self.shift_bounds is None
                else (self.shift_bounds[0][i], self.shift_bounds[1][i])
            )
            a = min(max(a + shift, lo), hi)
        x = np.asarray(sig[:, a : a + w], dtype=np.float32)  # copies out of the memmap
        if x.shape[1] != w:
            raise IndexError(f"WindowDataset: window {i} runs past the end of its signal")
        np.nan_to_num(x, copy=False, nan=0.0, posinf=0.0, neginf=0.0)  # dropouts: bad, not NaN
        if rng is None:
            return x
        if aug.shift_max > 0 and aug.shift_mode == "circular":
            x = np.roll(x, int(rng.integers(-aug.shift_max, aug.shift_max + 1)), axis=1)
        lo, hi = aug.scale_range
        if (lo, hi) != (1.0, 1.0):
            x *= np.float32(rng.uniform(lo, hi))
        if aug.noise_std > 0:
            sd = x.std(axis=1, keepdims=True)
            x += (rng.standard_normal(x.shape, dtype=np.float32) * sd * aug.noise_std).astype(
                np.float32
            )
        if aug.channel_dropout > 0:
            x[rng.random(x.shape[0]) < aug.channel_dropout] = 0.0
        return x

    def __getitems__(self, indices) -> dict[str, torch.Tensor] | list[dict]:
        """A whole batch (the DataLoader passes a batch's indices): the stacked items, equal to
        ``default_collate([self[i] for i in indices])``. Without augmentation, the windows of a
        case are cut from one read of the stretch they cover when they overlap or touch (in
        scoring order they do: 50 % overlap by default), so each sample is read from the memmap
        and converted to float32 once instead of twice. With augmentation, item by item."""
        idx = np.asarray(indices, dtype=np.int64)
        if self.augment is not None or not self.read_signal or idx.size == 0:
            return [self[i] for i in idx]
        w = self.window_samples
        x = np.empty((idx.size, self.n_channels, w), dtype=np.float32)
        for case in np.unique(self.case[idx]):
            rows = np.flatnonzero(self.case[idx] == case)
            starts = self.start_sample[idx[rows]]
            sig = self.signals[case]
            first, end = int(starts.min()), int(starts.max()) + w
            if end > sig.shape[1]:
                bad = int(idx[rows[np.argmax(starts)]])
                raise IndexError(f"WindowDataset: window {bad} runs past the end of its signal")
            if end - first <= rows.size * w:
                stretch = np.asarray(sig[:, first:end], dtype=np.float32)
                for row, start in zip(rows, starts - first, strict=True):
                    x[row] = stretch[:, start : start + w]
            else:
                for row, start in zip(rows, starts, strict=True):
                    x[row] = sig[:, start : start + w]
        np.nan_to_num(x, copy=False, nan=0.0, posinf=0.0, neginf=0.0)  # dropouts: bad, not NaN
        self._reads += idx.size
        if self._reads >= RELEASE_EVERY:
            self.release_pages()
        if self.reference_paths is None:
            reference = torch.zeros((idx.size, 0))
        else:
            reference = torch.from_numpy(np.stack([self.reference(i) for i in idx]))
        return {
            "x": torch.from_numpy(x),
            "feats": torch.from_numpy(self.features[idx]),
            "reference": reference,
            "y": torch.from_numpy((self.y_cls[idx] == 1).astype(np.float32)),
            "labelled": torch.from_numpy(self.y_cls[idx] >= 0),
            "y_soft": torch.from_numpy(self.y_soft[idx].astype(np.float32)),
            "w": torch.from_numpy(self.weights[idx].astype(np.float32)),
            "index": torch.from_numpy(idx),
        }

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        i = int(i)
        rng = None
        if self.augment is not None:
            rng = np.random.default_rng([self.seed, self.epoch, i])
        return {
            "x": torch.from_numpy(
                self._window(i, rng) if self.read_signal else np.zeros(0, np.float32)
            ),
            "feats": torch.from_numpy(self.features[i]),
            "reference": torch.from_numpy(self.reference(i)),
            "y": torch.tensor(float(self.y_cls[i] == 1)),
            "labelled": torch.tensor(bool(self.y_cls[i] >= 0)),  # excluded windows: -1
            "y_soft": torch.tensor(float(self.y_soft[i])),
            "w": torch.tensor(float(self.weights[i])),
            "index": torch.tensor(i),
        }


def collate(batch):
    """The DataLoader's ``collate_fn``: a batch :meth:`WindowDataset.__getitems__` already stacked
    passes through; a list of items is stacked by ``default_collate``."""
    return batch if isinstance(batch, dict) else default_collate(batch)


class BlockShuffleSampler(Sampler[int]):
    """Shuffles blocks of ``block_size`` consecutive indices, then the indices inside each block;
    the permutation depends only on ``(seed, epoch)``. With ``length`` > ``n`` an epoch chains
    further such permutations (each seeded by its pass too) and stops after ``length`` indices, so
    a small training set still gets enough steps per epoch."""

    def __init__(self, n: int, block_size: int = 8, seed: int = 0, length: int = 0) -> None:
        self.n, self.block_size, self.seed, self.epoch = int(n), max(1, int(block_size)), seed, 0
        self.length = max(self.n, int(length))

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self.length

    def _permutation(self, rng: np.random.Generator) -> np.ndarray:
        idx = np.arange(self.n)
        blocks = [idx[i : i + self.block_size] for i in range(0, self.n, self.block_size)]
        order = rng.permutation(len(blocks))
        return np.concatenate([rng.permutation(blocks[b]) for b in order]) if blocks else idx

    def __iter__(self):
        out = [self._permutation(np.random.default_rng([self.seed, self.epoch, 0x5A3]))]
        passes = -(-self.length // self.n) if self.n else 1
        for p in range(1, passes):
            out.append(self._permutation(np.random.default_rng([self.seed, self.epoch, 0x5A3, p])))
        return iter(np.concatenate(out)[: self.length].tolist())
