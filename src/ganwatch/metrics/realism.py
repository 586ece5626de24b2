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

Pixel realism is realism measured on the pixels instead of the classifier's features, with
thresholds of the same kind fitted on the pixels (per group, no ink test): the share of
samples whose nearest real image is as near, in pixels, as real images of their group are to
their own nearest neighbours. In the features a healthy GAN's samples already score well
below real data, so realism cannot tell them from noisy, barely recognisable ones; in pixels
it can. Measured on the verdict corpus's
calibration half (512 samples, MNIST, 5th to 95th percentile): feature realism 0.84 to 0.93
on the judge's healthy epochs and 0.45 to 0.87 (median 0.70) on epochs it found 10 to 20%
recognisable; pixel realism 0.92 to 0.98 on the healthy ones (lowest 0.90; real held-out
digits 0.99; a healthy GAN's samples kept to one to three classes, a crisp collapse, 0.93 to
0.99) and 0.23 to 0.93 (median 0.77) on the noisy ones. A blank image passes it (its pixels
lie close to thin real 1s): realism's ink test is what keeps that out. The 0.85 threshold
the detectors use was measured on MNIST only. Larger pictures are area-pooled to at most
``PIXEL_VALUES`` values first: nearest neighbours in thousands of raw
pixels cost minutes per reference on a CPU and measure lighting more than content.
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
#: Pixel realism compares images of at most this many values (C x H x W); larger ones are
#: area-pooled down to it (MNIST's 784 are kept as they are).
PIXEL_VALUES = 1024
_CHUNK = 1024


def nearest_distances(query: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Distance from each query row to its nearest reference row (float32, chunked)."""
    q, r = query.float(), reference.float()
    out = [torch.cdist(q[i : i + _CHUNK], r).amin(dim=1) for i in range(0, len(q), _CHUNK)]
    return torch.cat(out) if out else torch.empty(0)


def ink(images: torch.Tensor) -> torch.Tensor:
    """Mean intensity of each image in [0, 1] (images in [-1, 1]; the background is 0)."""
    return ((images.flatten(1).float() + 1) / 2).mean(dim=1)


def pixel_rows(images: torch.Tensor) -> torch.Tensor:
    """Images (N, C, H, W) as rows of at most ``PIXEL_VALUES`` pixels, for pixel realism:
    each side averaged down to ``ceil(side / factor)`` cells for the smallest whole factor
    that fits (adaptive average pooling, so a side the factor does not divide still counts
    every pixel)."""
    x = images.float()
    channels, height, width = x.shape[1:]
    factor = 1
    while channels * -(-height // factor) * -(-width // factor) > PIXEL_VALUES:
        factor += 1
    if factor > 1:
        x = torch.nn.functional.adaptive_avg_pool2d(x, (-(-height // factor), -(-width // factor)))
    return x.flatten(1)


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
    """Per-group thresholds fitted on the reference: its own nearest-neighbour gaps in the
    space it is given (features for realism, pixel rows for pixel realism), and (for images,
    in feature space) its ink range."""

    reference: torch.Tensor  # (N, D) features or pixel rows
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
