"""Training of the deep model: losses, window datasets and the per-fold training loop."""

from preictal.train.data import Augment, BlockShuffleSampler, WindowDataset
from preictal.train.loop import TrainParams, predict, train_fold
from preictal.train.losses import fusion_loss, pos_weight_from, sample_weights

__all__ = [
    "Augment",
    "BlockShuffleSampler",
    "TrainParams",
    "WindowDataset",
    "fusion_loss",
    "pos_weight_from",
    "predict",
    "sample_weights",
    "train_fold",
]
