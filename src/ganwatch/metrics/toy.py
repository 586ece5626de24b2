"""Mode coverage on the 2-D toy mixtures (ring, grid), with the VEEGAN/PacGAN rules.

On the toy sets the modes are known exactly (``ganwatch.data.toy.mode_centres``), so mode
collapse can be counted instead of estimated. The rules are those of VEEGAN (Srivastava et
al. 2017, Sec. 5.1), also used by PacGAN (Lin et al. 2018) and its code
(fjxmlzn/PacGAN, ``synthetic_data_experiments/PacGAN/pacgan/extensions.py``,
``MetricLogger``):

- a sample is **high quality** when it lies within three standard deviations of its
  nearest mode: ``|x - c| / sigma < 3``, strict, as the PacGAN code tests
  ``min_dis < dis_thre`` with ``dis_thre = 3`` (VEEGAN: "within three standard deviations
  of the nearest mode");
- a mode is **captured** when it is the nearest mode of at least one high-quality sample
  (VEEGAN: "the number of mixture components whose mean is nearest to at least one high
  quality sample"; PacGAN counts the non-zero bins of the same histogram). ``min_count``
  raises that bar for noisy generators; the default 1 is the papers' rule.

Both papers draw 2,500 samples per evaluation. ``mode_kl`` (not in those papers; PacGAN's
code logs a JSD instead) is KL(p || uniform) of the high-quality histogram: 0 when every
mode gets the same share, log(K) when all high-quality samples sit on one mode.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .distances import ArrayLike, as_features

__all__ = ["toy_mode_metrics"]

#: High-quality radius in standard deviations (VEEGAN, PacGAN).
HIGH_QUALITY_SIGMAS = 3.0


def _nearest_modes(samples: torch.Tensor, centres: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Index of and Euclidean distance to each sample's nearest centre (float64)."""
    # (N, K) with K <= 25: direct differences, not the GEMM shortcut, so no cancellation.
    dist = torch.cdist(samples, centres, compute_mode="donot_use_mm_for_euclid_dist")
    nearest_dist, nearest = dist.min(dim=1)
    return nearest, nearest_dist


def _kl_from_uniform(histogram: np.ndarray) -> float:
    """KL(p || uniform over K bins) in nats; NaN when the histogram is empty (undefined)."""
    total = histogram.sum()
    if total == 0:
        return math.nan
    p = histogram[histogram > 0] / total
    return float(np.sum(p * np.log(p * histogram.size)))


def toy_mode_metrics(
    samples: ArrayLike,
    centres: ArrayLike,
    sigma: float,
    *,
    min_count: int = 1,
) -> dict[str, object]:
    """Mode coverage of (N, 2) generated ``samples`` on a mixture with ``centres`` (K, 2).

    Returns a dict:

    - ``modes_captured`` (int): modes with at least ``min_count`` high-quality samples;
    - ``high_quality`` (float): fraction of samples within 3 sigma of their nearest mode;
    - ``mode_kl`` (float): KL of the high-quality histogram from uniform (NaN if there are
      no high-quality samples);
    - ``histogram`` (list[int], length K): high-quality samples per mode.

    Use ``centres=mode_centres(name)`` and ``sigma=mode_sigma(name)`` from
    ``ganwatch.data.toy`` so the metric uses the very mixture the data came from.
    """
    if sigma <= 0:
        raise ValueError(f"sigma must be > 0, got {sigma}")
    if min_count < 1:
        raise ValueError(f"min_count must be >= 1, got {min_count}")
    x = as_features(samples, "samples").to("cpu", torch.float64)
    c = as_features(centres, "centres").to("cpu", torch.float64)
    if x.shape[1] != c.shape[1]:
        raise ValueError(f"samples are {x.shape[1]}-D but centres are {c.shape[1]}-D")
    nearest, dist = _nearest_modes(x, c)
    good = dist < HIGH_QUALITY_SIGMAS * sigma
    histogram = torch.bincount(nearest[good], minlength=c.shape[0]).numpy()
    return {
        "modes_captured": int((histogram >= min_count).sum()),
        "high_quality": float(good.double().mean()),
        "mode_kl": _kl_from_uniform(histogram),
        "histogram": [int(v) for v in histogram],
    }
