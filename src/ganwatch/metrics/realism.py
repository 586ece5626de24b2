"""Realism: the share of samples that lie as close to real data as real data itself does.

Precision, the usual "fidelity" number, asks whether a sample falls inside some real point's
k-NN ball. Real data has outliers with large balls, so one blank or heavily blurred image can
land in one and a whole collapsed set scores 1.0 (measured: ganwatch's MNIST classifier
features, blank and sigma-4 blur at precision 0.98 to 1.0). Realism is stricter and
class-aware: a sample counts as real-like when its distance to the nearest reference point is
within the 99th percentile of the leave-one-out nearest-neighbour distances of the reference
points *of its own group*, where the group is the sample's predicted class (or, without a
classifier, its nearest k-means cluster of the reference), and, for images, its ink (mean
intensity) lies within the range of 99% of its group's real images. Grouping keeps digits of
sparse classes from being judged by the dense classes' distances, so one- and two-class real
sets stay real-like. The ink test is what keeps a blank image out when the reference is
small: its features can sit closer to a thin "1" than sparse real "1"s sit to each other.
Measured on MNIST at 512 samples against 10,000 reference digits, real data scores 0.977 to
0.998 and every degenerate set (blank, grey, noise, blur, contrast-shifted) 0 to 0.91.

Detail is the other half of "data-like" for pictures: photographs have smooth regions (sky,
a dark background), so a blurred patch lies close to some real one in any embedding and
passes realism (measured: 9x9-blurred 32x32 photo patches score realism 0.98). What blur
cannot hide is the set's lack of fine detail: the median, over samples, of each sample's
mean neighbouring-pixel difference divided by the median of real images of its group. Real
held-out data scores 0.98 to 1.0; blurred photo patches 0.24 (9x9 box) to 0.55 (3x3); the
final samples of 28 CPU-trained MNIST GANs, healthy or failed, 1.08 to 6.8 (GAN samples are
sharper and noisier than real digits, never blurrier), so a low detail ratio picks out blur.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ganwatch.metrics.distances import knn_radii

#: The share of real points each group's threshold keeps: a real sample is "unusual" 1% of
#: the time, so real data scores about 0.99.
QUANTILE = 0.99
#: Ink (mean intensity) range a real-like image of a group lies in: 99% of its real images.
INK_QUANTILES = (0.005, 0.995)
#: A group with fewer reference points than this uses the pooled threshold of all groups.
MIN_GROUP = 20
_CHUNK = 1024


def nearest_distances(query: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Distance from each query row to its nearest reference row (float32, chunked)."""
    q, r = query.float(), reference.float()
    out = [torch.cdist(q[i : i + _CHUNK], r).amin(dim=1) for i in range(0, len(q), _CHUNK)]
    return torch.cat(out) if out else torch.empty(0)


def ink(images: torch.Tensor) -> torch.Tensor:
    """Mean intensity of each image in [0, 1] (images in [-1, 1]; the background is 0)."""
    return ((images.flatten(1).float() + 1) / 2).mean(dim=1)


def pixel_detail(images: torch.Tensor) -> torch.Tensor:
    """Each image's mean absolute difference between horizontally and vertically neighbouring
    pixels (images (N, C, H, W) in [-1, 1]): how much fine detail it has."""
    x = images.float()
    across = (x[..., :, 1:] - x[..., :, :-1]).abs().flatten(1).mean(dim=1)
    down = (x[..., 1:, :] - x[..., :-1, :]).abs().flatten(1).mean(dim=1)
    return (across + down) / 2


def _per_group(values: torch.Tensor, groups: torch.Tensor, count: int, q: float) -> torch.Tensor:
    """The ``q`` quantile of ``values`` within each group (the pooled one for small groups)."""
    out = torch.full((count,), float(torch.quantile(values, q)))
    for group in range(count):
        members = values[groups == group]
        if len(members) >= MIN_GROUP:
            out[group] = torch.quantile(members, q)
    return out


@dataclass
class Typicality:
    """Per-group thresholds fitted on the reference: its own nearest-neighbour gaps in feature
    space, and (for images) its ink range."""

    reference: torch.Tensor  # (N, D) features
    thresholds: torch.Tensor  # (groups,) distances
    ink_low: torch.Tensor | None = None  # (groups,) ink range; None: not images
    ink_high: torch.Tensor | None = None
    detail: torch.Tensor | None = None  # (groups,) median pixel detail of real images

    @classmethod
    def fit(
        cls,
        features: torch.Tensor,
        groups: torch.Tensor,
        count: int,
        images: torch.Tensor | None = None,
    ) -> Typicality:
        """Thresholds from ``features`` (N, D) whose group of each row is ``groups`` (N,), and
        the ink ranges of the reference ``images`` when given."""
        gaps = knn_radii(features, 1).float()
        thresholds = _per_group(gaps, groups, count, QUANTILE)
        if images is None:
            return cls(features.float(), thresholds)
        amounts = ink(images)
        low, high = (_per_group(amounts, groups, count, q) for q in INK_QUANTILES)
        detail = _per_group(pixel_detail(images), groups, count, 0.5)
        return cls(features.float(), thresholds, low, high, detail)

    def typical(
        self, features: torch.Tensor, groups: torch.Tensor, images: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Per sample: whether it is as close to the reference as its group's real points
        (and, for images, as inked as they are)."""
        close = nearest_distances(features, self.reference) <= self.thresholds[groups]
        if images is None or self.ink_low is None:
            return close
        amounts = ink(images)
        return close & (amounts >= self.ink_low[groups]) & (amounts <= self.ink_high[groups])

    def share(
        self, features: torch.Tensor, groups: torch.Tensor, images: torch.Tensor | None = None
    ) -> float:
        """The realism of a set of samples: the share of them that is typical."""
        if len(features) == 0:
            return float("nan")
        return float(self.typical(features, groups, images).float().mean())

    def detail_ratio(self, groups: torch.Tensor, images: torch.Tensor) -> float:
        """The samples' fine detail relative to real images of their groups (median over
        samples; 1 is as detailed as real data, blur scores well below). NaN without images."""
        if self.detail is None or len(images) == 0:
            return float("nan")
        typical = self.detail[groups].clamp_min(1e-6)
        return float(torch.median(pixel_detail(images) / typical))
