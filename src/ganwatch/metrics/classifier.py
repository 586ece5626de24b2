"""A small digit classifier that ganwatch trains itself, used as the feature extractor of its
image metrics: class coverage, Stacked MNIST modes, FID/KID and PRDC.

Why not a downloaded network: Inception features are meaningless on 28x28 greyscale digits,
and a pretrained MNIST model would be one more download on machines that are often offline.
A CNN of this size reaches ~99% on MNIST after ~20 s of CPU training, which is all the
class metrics need, and its 128 penultimate activations are a feature space in which real
and generated digits can be compared.

Training it and caching it are :mod:`ganwatch.metrics.classifier_training`'s job.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ganwatch.data.loader import scale_images

__all__ = [
    "ARCH_VERSION",
    "DigitClassifier",
    "FEATURE_DIM",
    "as_model_input",
    "classifier_features",
    "classifier_probs",
]

#: Bumped whenever the architecture or the training recipe changes, so old cache files are
#: retrained instead of being loaded into a model they were not trained as.
ARCH_VERSION = 2
FEATURE_DIM = 128
NUM_CLASSES = 10

EPOCHS = 5
#: The classifier learns from the first this many images of the train split (the splits of
#: MNIST, Fashion-MNIST and KMNIST are in no class order). Five epochs over
#: MNIST's first 23,797 give 99.0% test accuracy in ~26 s on two cores, all the metrics need;
#: a whole 60,000-image split would make every cold first evaluation 2.5 times as long.
TRAIN_IMAGES = 24_000
BATCH_SIZE = 128
LEARNING_RATE = 3e-3
#: Largest random shift (pixels) of the training augmentation; digits in generated images are
#: not always centred the way MNIST's are, and shifts are the cheapest way to cover that.
MAX_SHIFT = 2
EVAL_BATCH_SIZE = 2048
#: Pixel value of MNIST's background after scaling to [-1, 1]; used to pad shifted digits.
BACKGROUND = -1.0

TRAIN_COMMAND = "ganwatch classifier train"


class DigitClassifier(nn.Module):
    """Two conv blocks and a 128-unit hidden layer: input (N, 1, 28, 28) in [-1, 1], 10 logits.

    Each block is conv 3x3, batch norm, ReLU, 2x2 max-pool (16 then 32 channels). Batch norm
    is what lets five epochs suffice; the narrow convs keep an epoch at ~4 s on two cores.

    ``features`` is the 128-d penultimate activation (after ReLU, before dropout): the
    representation the distribution metrics compare. ``test_accuracy`` is set by
    :func:`train_classifier` and :func:`load_classifier` for reporting.
    """

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, kernel_size=3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 32, kernel_size=3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(32)
        self.fc = nn.Linear(32 * 7 * 7, FEATURE_DIM)
        self.dropout = nn.Dropout(0.3)
        self.head = nn.Linear(FEATURE_DIM, NUM_CLASSES)
        self.test_accuracy: float | None = None

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 1, 28, 28) images in [-1, 1] -> (N, 128) penultimate activations."""
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        return F.relu(self.fc(x.flatten(1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 1, 28, 28) images in [-1, 1] -> (N, 10) logits."""
        return self.head(self.dropout(self.features(x)))


# --------------------------------------------------------------------------- input handling


def as_model_input(images: np.ndarray | torch.Tensor) -> torch.Tensor:
    """Turn images into what the classifier takes: float32 (N, 1, 28, 28) in [-1, 1].

    Accepts numpy or torch, (N, 28, 28) or (N, 1, 28, 28). uint8 is read as pixel values
    0..255 and scaled exactly as :func:`ganwatch.data.load_dataset` scales MNIST (same
    formula, so the same digits give bit-identical inputs either way); any float dtype is
    taken as already in [-1, 1], the generator's tanh range. The tensor stays on its device.
    """
    x = torch.as_tensor(images)
    if x.ndim == 3:
        x = x.unsqueeze(1)
    if x.ndim != 4 or tuple(x.shape[1:]) != (1, 28, 28):
        raise ValueError(
            f"expected images of shape (N, 28, 28) or (N, 1, 28, 28), got {tuple(x.shape)}"
        )
    if x.dtype == torch.uint8:
        return scale_images(x, x.device)
    if not x.is_floating_point():
        raise ValueError(f"expected uint8 or float images, got {x.dtype}")
    return x.to(torch.float32)


def _model_device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


@torch.no_grad()
def _batched(
    model: DigitClassifier, images: np.ndarray | torch.Tensor, batch_size: int, what: str
) -> torch.Tensor:
    """Run ``model.features`` or softmax(``model``) over ``images`` in eval mode, in batches.

    Batching bounds memory (a 2048-image batch needs ~150 MB of activations) so that tens of
    thousands of samples can be measured on a small GPU; each batch is moved to the model's
    device before it is converted, so uint8 images travel at a quarter of the float size. The
    model's train/eval mode is restored afterwards, since a caller may be in the middle of
    training it. Results are returned on the CPU, where the metrics are computed.
    """
    raw = torch.as_tensor(images)
    as_model_input(raw[:0])  # reject a wrong shape or dtype before any work is done
    device = _model_device(model)
    was_training = model.training
    model.eval()
    try:
        outputs = []
        for start in range(0, len(raw), batch_size):
            batch = as_model_input(raw[start : start + batch_size].to(device))
            out = model.features(batch) if what == "features" else model(batch).softmax(dim=1)
            outputs.append(out.float().cpu())
    finally:
        model.train(was_training)
    width = FEATURE_DIM if what == "features" else NUM_CLASSES
    return torch.cat(outputs) if outputs else torch.empty(0, width)


def classifier_features(
    model: DigitClassifier, images: np.ndarray | torch.Tensor, batch_size: int = EVAL_BATCH_SIZE
) -> torch.Tensor:
    """(N, 128) penultimate features of ``images`` (see :func:`as_model_input`), on the CPU."""
    return _batched(model, images, batch_size, "features")


def classifier_probs(
    model: DigitClassifier, images: np.ndarray | torch.Tensor, batch_size: int = EVAL_BATCH_SIZE
) -> torch.Tensor:
    """(N, 10) class probabilities (softmax) of ``images``, on the CPU."""
    return _batched(model, images, batch_size, "probs")


@torch.no_grad()
def probs_from_features(model: DigitClassifier, features: torch.Tensor) -> torch.Tensor:
    """(N, 10) class probabilities from features :func:`classifier_features` already gave:
    the head alone (dropout is off in evaluation), so the convolutions run once, not twice."""
    logits = model.head(features.to(_model_device(model), torch.float32))
    return logits.softmax(dim=1).float().cpu()
