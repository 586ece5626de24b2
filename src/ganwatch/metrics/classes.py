"""Class-level mode-collapse metrics computed from the digit classifier's predictions.

A GAN that collapses stops producing some digits long before its images look bad, so the
first thing to count is which classes it still produces, and in what proportions:

- :func:`class_metrics`: histogram of predicted classes, classes covered, the KL divergence of
  the generated class distribution from the data's, and the classifier Inception Score.
- :func:`stacked_mnist_modes`: the 1,000-mode Stacked MNIST count of VEEGAN (Srivastava et
  al., 2017) and PacGAN (Lin et al., 2018).

Results are plain Python numbers and lists, so they can be stored as JSON or printed as is.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .classifier import DigitClassifier, classifier_probs

__all__ = [
    "COVERAGE_FRACTION",
    "KL_EPSILON",
    "STACKED_MODES",
    "class_distribution",
    "class_metrics",
    "inception_score",
    "kl_divergence",
    "stacked_mnist_modes",
]

#: A class counts as covered when its share of the generated samples is at least this
#: fraction of its share in the reference (10%: ~1% of samples for a balanced 10-class set).
COVERAGE_FRACTION = 0.1
#: Floor of the reference probabilities in the KL divergence; see :func:`kl_divergence`.
KL_EPSILON = 1e-6
#: Modes of Stacked MNIST: one digit per channel, three channels.
STACKED_MODES = 1000
#: Splits of the Inception Score, as in Salimans et al. (2016).
IS_SPLITS = 10

ArrayLike = np.ndarray | torch.Tensor


def _as_numpy(values: ArrayLike) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().numpy()
    return np.asarray(values)


def kl_divergence(p: ArrayLike, q: ArrayLike, epsilon: float = KL_EPSILON) -> float:
    """KL(p || q) in nats between two discrete distributions (any non-negative weights).

    Both are normalised; then ``q`` is floored at ``epsilon``. Without the floor, a class the
    reference lacks but the generator produces (a misclassified sample, or a reference given
    as labels of a small set) makes the divergence infinite, which tells nothing and breaks
    averages and charts. With ``epsilon`` = 1e-6 such a class adds ``m * log(m / 1e-6)`` for
    generated mass ``m`` (~14 nats per unit of mass): large but finite. Only ``q`` is guarded
    and it is not renormalised, and where ``p`` is 0 the term is exactly 0: so the result is
    the exact KL whenever the reference has no empty class, and 0 for any ``p`` against itself.
    """
    p = _as_numpy(p).astype(np.float64)
    q = _as_numpy(q).astype(np.float64)
    if p.shape != q.shape or p.ndim != 1:
        raise ValueError(f"expected two 1-D distributions of one length, got {p.shape}, {q.shape}")
    if (p < 0).any() or (q < 0).any() or p.sum() <= 0 or q.sum() <= 0:
        raise ValueError("expected non-negative weights with a positive sum")
    p = p / p.sum()
    q = np.maximum(q / q.sum(), epsilon)
    mass = p > 0
    return float(np.sum(p[mass] * np.log(p[mass] / q[mass])))


def class_distribution(reference: ArrayLike, num_classes: int) -> np.ndarray:
    """The reference class distribution, from labels or from a distribution.

    An integer array is read as labels (one per reference sample, 0..num_classes-1); a float
    array of length ``num_classes`` as a distribution or class weights, normalised to sum 1.
    """
    ref = _as_numpy(reference)
    if np.issubdtype(ref.dtype, np.integer):
        if ref.ndim != 1 or ref.size == 0 or ref.min() < 0 or ref.max() >= num_classes:
            raise ValueError(f"expected reference labels in 0..{num_classes - 1}, got {ref}")
        return np.bincount(ref, minlength=num_classes) / ref.size
    ref = ref.astype(np.float64)
    if ref.shape != (num_classes,) or (ref < 0).any() or ref.sum() <= 0:
        raise ValueError(
            f"expected a reference distribution of {num_classes} non-negative weights, got {ref}"
        )
    return ref / ref.sum()


def _split_score(probs: np.ndarray) -> float:
    """exp(E_x KL(p(y|x) || p(y))) over one split, with p(y) the split's mean prediction."""
    marginal = probs.mean(axis=0, keepdims=True)
    # xlogy-style: 0 * log(0 / m) is 0, so confident one-hot predictions are fine.
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(probs > 0, probs * (np.log(probs) - np.log(marginal)), 0.0)
    return math.exp(terms.sum(axis=1).mean())


def inception_score(probs: ArrayLike, splits: int = IS_SPLITS) -> tuple[float, float]:
    """Classifier Inception Score of predictions ``probs`` (N, K): (mean, std) over splits.

    IS = exp(E_x KL(p(y|x) || p(y))) is high (up to K) when each sample is classified
    confidently and the classes are used evenly, so it falls both with blurry samples and
    with collapse. As in the original (Salimans et al., 2016) the samples are cut into
    ``splits`` consecutive parts, each with its own p(y); the spread across parts is the std.
    ``splits`` is capped at N. Scores from this classifier are comparable with each other,
    not with Inception-network scores in papers.
    """
    p = _as_numpy(probs).astype(np.float64)
    if p.ndim != 2 or len(p) == 0:
        raise ValueError(f"expected probabilities of shape (N, K) with N > 0, got {p.shape}")
    scores = [_split_score(part) for part in np.array_split(p, max(1, min(splits, len(p))))]
    return float(np.mean(scores)), float(np.std(scores))


def classes_covered(generated: np.ndarray, reference: np.ndarray) -> int:
    """Classes whose generated share is at least ``COVERAGE_FRACTION`` of their reference share.

    One sample of a class is not coverage: a collapsed generator's odd blob gets classified
    as *something*, and counting that as "produces this digit" would hide the collapse. 10%
    of the reference share means a class must hold ~1% of samples (for 10 balanced
    classes), far above the classifier's error rate, yet a generator that merely under-
    produces a digit (half as often as the data) still covers it. Classes absent from the
    reference are never counted. The comparison allows for float rounding, so that exactly
    10% (10 of 1,000 samples for a class with a 10% share) counts as covered.
    """
    present = reference > 0
    threshold = COVERAGE_FRACTION * reference * (1 - 1e-9)
    return int(np.sum(present & (generated >= threshold)))


def class_metrics(
    probs: ArrayLike, reference: ArrayLike, splits: int = IS_SPLITS
) -> dict[str, object]:
    """Class statistics of generated samples from their predicted probabilities (N, K).

    ``reference`` is the real data's labels (int) or class distribution (float), see
    :func:`class_distribution`. Returns:

    - ``class_histogram``: list of K counts of the predicted (argmax) class;
    - ``classes_covered``: see :func:`classes_covered`;
    - ``class_kl``: KL(generated class distribution || reference), see :func:`kl_divergence`;
    - ``inception_score``, ``inception_score_std``: see :func:`inception_score`.
    """
    p = _as_numpy(probs)
    if p.ndim != 2 or len(p) == 0:
        raise ValueError(f"expected probabilities of shape (N, K) with N > 0, got {p.shape}")
    num_classes = p.shape[1]
    histogram = np.bincount(p.argmax(axis=1), minlength=num_classes)
    generated = histogram / histogram.sum()
    ref = class_distribution(reference, num_classes)
    score, score_std = inception_score(p, splits)
    return {
        "class_histogram": histogram.tolist(),
        "classes_covered": classes_covered(generated, ref),
        "class_kl": kl_divergence(generated, ref),
        "inception_score": score,
        "inception_score_std": score_std,
    }


def stacked_mnist_modes(
    model: DigitClassifier, images: ArrayLike, batch_size: int = 2048
) -> dict[str, object]:
    """Count Stacked MNIST modes of ``images`` (N, 3, 28, 28), uint8 or float in [-1, 1].

    Each channel is classified on its own by the MNIST classifier, and the mode is
    ``100 * d0 + 10 * d1 + d2``. As in VEEGAN and PacGAN a mode is covered when at least one
    sample falls in it (so with far fewer than 1,000 samples not every mode can be covered,
    and those papers use 26,000), and the KL is that of the mode histogram to the uniform
    distribution over 1,000 modes (the data's distribution). Returns ``modes_covered``,
    ``mode_kl`` and ``histogram`` (list of 1,000 counts).
    """
    x = torch.as_tensor(images)
    if x.ndim != 4 or tuple(x.shape[1:]) != (3, 28, 28):
        raise ValueError(f"expected Stacked MNIST images (N, 3, 28, 28), got {tuple(x.shape)}")
    if len(x) == 0:
        raise ValueError("expected at least one image")
    digits = classifier_probs(model, x.reshape(-1, 28, 28), batch_size).argmax(dim=1)
    digits = digits.view(-1, 3).numpy()
    modes = 100 * digits[:, 0] + 10 * digits[:, 1] + digits[:, 2]
    histogram = np.bincount(modes, minlength=STACKED_MODES)
    uniform = np.full(STACKED_MODES, 1.0 / STACKED_MODES)
    return {
        "modes_covered": int(np.count_nonzero(histogram)),
        "mode_kl": kl_divergence(histogram / histogram.sum(), uniform),
        "histogram": histogram.tolist(),
    }
