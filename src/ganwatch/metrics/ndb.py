"""NDB and JS: the number of statistically different bins (Richardson & Weiss 2018).

"On GANs and GMMs" measures mode collapse by binning: k-means splits the reference data into
K bins; a set of generated samples is assigned to the same bins (each sample to the nearest
bin centre), and each bin's share of the samples is compared with its share of the reference
by a two-proportion z-test. NDB is the number of bins whose shares differ significantly;
NDB/K near the test's level (alpha) means the model covers the modes like held-out data does,
while a collapsed model empties bins and overfills others. The Jensen-Shannon divergence
between the two bin histograms summarises the same picture in one number.

This module follows the authors' code (``utils/ndb.py`` in eitanrich/gans-n-gmms):

- samples are flattened to (N, D); with ``whiten`` every dimension is standardised with the
  reference's mean and (population) standard deviation plus 1e-6, the reference's guard
  against zero spread (so a dimension that is constant in the reference magnifies any
  variation of the query there by 1e6, exactly as in the reference);
- data of more than 1,000 dimensions is clustered, and assigned, on D // 6 dimensions drawn
  at random without replacement (seeded here);
- bins are sorted by size, largest first; a bin's centre is the mean of its members, and a
  query sample goes to the nearest such centre in the space the clustering used;
- the test is pooled and two-sided, at ``alpha = 0.05``, or ``|z| > z_threshold``;
- JS uses the natural logarithm.

The k-means is :func:`ganwatch.metrics.kmeans.kmeans`, the algorithm of the scikit-learn
``KMeans`` the reference calls, in torch. :class:`NDBBins` is built once per reference set and
reused: evaluating a new set of samples (every epoch, say) only assigns them to the bins.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from scipy.stats import norm

from .kmeans import assign, kmeans

__all__ = ["NDBBins", "NDBResult", "js_divergence", "significant", "two_proportion_z"]

#: Data with more dimensions than this is binned on a random subset (the reference's rule).
MAX_DIMS = 1000
#: Added to every standard deviation before whitening, as the reference does.
WHITEN_EPS = 1e-6


@dataclass
class NDBResult:
    """The outcome of comparing one set of samples with the reference bins.

    Per bin (largest reference bin first): ``ref_proportions`` and ``query_proportions``,
    the test statistic ``z`` (positive where the query has too few samples), ``different``
    (significant at the chosen level), and ``ref_se``, the standard error of the difference
    of the two proportions under the reference proportion, which the reference's chart
    draws as the error bar of the reference bar.
    """

    ndb: int
    ndb_k: float
    js: float
    bins: int
    ref_proportions: np.ndarray = field(repr=False)
    query_proportions: np.ndarray = field(repr=False)
    z: np.ndarray = field(repr=False)
    different: np.ndarray = field(repr=False)
    ref_se: np.ndarray = field(repr=False)
    n_ref: int = 0
    n_query: int = 0

    @property
    def different_bins(self) -> list[int]:
        """Indices of the significantly different bins."""
        return [int(i) for i in np.flatnonzero(self.different)]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict (plain ints, floats and lists) for run stores and reports."""
        return {
            "ndb": int(self.ndb),
            "ndb_k": float(self.ndb_k),
            "js": float(self.js),
            "bins": int(self.bins),
            "n_ref": int(self.n_ref),
            "n_query": int(self.n_query),
            "different_bins": self.different_bins,
            "z": [float(v) for v in self.z],
            "ref_proportions": [float(v) for v in self.ref_proportions],
            "query_proportions": [float(v) for v in self.query_proportions],
            "ref_se": [float(v) for v in self.ref_se],
        }


def two_proportion_z(p1: Any, n1: float, p2: Any, n2: float) -> Any:
    """Pooled two-proportion z statistic, ``(p1 - p2) / SE`` with the pooled SE.

    ``SE = sqrt(p (1 - p) (1/n1 + 1/n2))`` with ``p = (p1 n1 + p2 n2) / (n1 + n2)``. Where
    both proportions are 0 (or both 1) the SE is 0 and there is no difference to test; z is
    0 there (the reference code gets NaN, which its test also counts as "not different").
    Scalars give a float, arrays an array.
    """
    a1, a2 = np.asarray(p1, dtype=np.float64), np.asarray(p2, dtype=np.float64)
    pooled = (a1 * n1 + a2 * n2) / (n1 + n2)
    se = np.sqrt(pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, (a1 - a2) / np.where(se > 0, se, 1.0), 0.0)
    return float(z) if z.ndim == 0 else z


def significant(z: np.ndarray, alpha: float = 0.05, z_threshold: float | None = None) -> np.ndarray:
    """Bins that differ: two-sided p-value below ``alpha``, or ``|z| > z_threshold``."""
    z = np.asarray(z, dtype=np.float64)
    if z_threshold is not None:
        return np.abs(z) > z_threshold
    return 2.0 * norm.sf(np.abs(z)) < alpha


def js_divergence(p: Any, q: Any) -> float:
    """Jensen-Shannon divergence of two histograms, natural log (so at most ln 2).

    ``0.5 KL(p || m) + 0.5 KL(q || m)`` with ``m = (p + q) / 2``; terms with a zero
    probability contribute nothing, and ``m`` is positive wherever they are not.
    """
    a, b = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"histograms differ in shape: {a.shape} vs {b.shape}")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ValueError("histograms must be finite")
    if np.any(a < 0) or np.any(b < 0):
        raise ValueError("histograms must be non-negative")
    m = 0.5 * (a + b)
    return 0.5 * (_kl(a, m) + _kl(b, m))


def _kl(p: np.ndarray, q: np.ndarray) -> float:
    """KL(p || q) over the support of p (q > 0 there by construction)."""
    support = p > 0
    return float(np.sum(p[support] * np.log(p[support] / q[support])))


def _as_rows(data: Any, device: torch.device | str | None) -> torch.Tensor:
    """Samples as an (N, D) float tensor: images (N, H, W) or (N, C, H, W) are flattened.

    float64 input stays float64 (the reference works in float64; ties are decided at that
    precision), anything else becomes float32.
    """
    tensor = torch.as_tensor(np.asarray(data)) if not isinstance(data, torch.Tensor) else data
    tensor = tensor.detach()
    if tensor.ndim < 2:
        raise ValueError(f"expected samples of shape (N, ...), got {tuple(tensor.shape)}")
    if tensor.shape[0] == 0:
        raise ValueError("no samples")
    dtype = torch.float64 if tensor.dtype == torch.float64 else torch.float32
    target = device if device is not None else tensor.device
    return tensor.to(device=target, dtype=dtype).reshape(tensor.shape[0], -1)


def _chosen_dims(d: int, max_dims: int | None, seed: int) -> torch.Tensor | None:
    """The reference's dimension subset: D // 6 random dimensions when D > ``max_dims``."""
    if max_dims is None or d <= max_dims:
        return None
    generator = torch.Generator().manual_seed(seed)
    return torch.randperm(d, generator=generator)[: d // 6].sort().values


@dataclass(eq=False)
class NDBBins:
    """K-means bins of a reference set; build with :meth:`fit`, then :meth:`evaluate` often.

    ``centres`` (K, D) are the bins' member means in the original space (unwhitened, all
    dimensions): for display. ``ref_labels`` is the bin of every reference sample. The
    assignment uses ``fit_centres`` (float64), the member means in the space the clustering
    used (whitened and restricted to ``dims`` when those apply), on ``device``.
    """

    centres: np.ndarray = field(repr=False)
    ref_proportions: np.ndarray = field(repr=False)
    ref_counts: np.ndarray = field(repr=False)
    ref_labels: np.ndarray = field(repr=False)
    n_ref: int
    fit_centres: torch.Tensor = field(repr=False)
    dims: torch.Tensor | None = field(repr=False)
    mean: torch.Tensor | None = field(repr=False)
    std: torch.Tensor | None = field(repr=False)
    sample_shape: tuple[int, ...] = ()
    kmeans_inertia: float = math.nan

    @property
    def bins(self) -> int:
        """K, the number of bins."""
        return int(self.ref_proportions.shape[0])

    @property
    def device(self) -> torch.device:
        """Where the bins live and where samples are assigned."""
        return self.fit_centres.device

    @classmethod
    def fit(
        cls,
        reference: Any,
        bins: int = 100,
        *,
        seed: int = 0,
        whiten: bool = False,
        max_dims: int | None = MAX_DIMS,
        n_init: int = 10,
        max_iter: int = 100,
        device: torch.device | str | None = None,
    ) -> NDBBins:
        """Bin ``reference`` (N, ...) into ``bins`` k-means clusters.

        ``n_init=10`` and ``max_iter=100`` are the reference's k-means settings; ``seed``
        fixes the k-means and the dimension subset. ``max_dims=None`` never subsamples
        dimensions. ``device`` defaults to the reference's own (the CPU for NumPy input).
        """
        x = _as_rows(reference, device)
        if not 1 <= bins <= x.shape[0]:
            raise ValueError(f"need 1 <= bins <= {x.shape[0]} reference samples, got {bins}")
        mean, std = _whitening(x) if whiten else (None, None)
        dims = _chosen_dims(x.shape[1], max_dims, seed)
        space = _project(x, mean, std, dims)
        result = kmeans(space, bins, n_init=n_init, max_iter=max_iter, seed=seed)
        built = cls._build(x, space, result.labels, bins, mean, std, dims)
        built.sample_shape = _sample_shape(reference)
        built.kmeans_inertia = result.inertia
        return built

    @classmethod
    def from_labels(
        cls,
        reference: Any,
        labels: Any,
        *,
        bins: int | None = None,
        seed: int = 0,
        whiten: bool = False,
        max_dims: int | None = MAX_DIMS,
        device: torch.device | str | None = None,
    ) -> NDBBins:
        """Bins from a given clustering of ``reference`` (e.g. scikit-learn's labels).

        Everything after the k-means is the same as in :meth:`fit`: sorting by size, member
        means, whitening and dimension choice (the same ``seed`` gives the same dimensions).
        """
        x = _as_rows(reference, device)
        given = labels if isinstance(labels, torch.Tensor) else torch.as_tensor(np.asarray(labels))
        labels_t = given.to(device=x.device, dtype=torch.int64)
        if labels_t.shape != (x.shape[0],):
            raise ValueError(f"need one label per sample ({x.shape[0]}), got {labels_t.shape}")
        k = int(labels_t.max()) + 1 if bins is None else bins
        mean, std = _whitening(x) if whiten else (None, None)
        dims = _chosen_dims(x.shape[1], max_dims, seed)
        built = cls._build(x, _project(x, mean, std, dims), labels_t, k, mean, std, dims)
        built.sample_shape = _sample_shape(reference)
        return built

    @classmethod
    def _build(
        cls,
        x: torch.Tensor,
        space: torch.Tensor,
        labels: torch.Tensor,
        k: int,
        mean: torch.Tensor | None,
        std: torch.Tensor | None,
        dims: torch.Tensor | None,
    ) -> NDBBins:
        """Sort the clusters by size (largest first, ties by index) and take member means."""
        counts = torch.bincount(labels, minlength=k)
        if counts.shape[0] != k or bool((counts == 0).any()):
            empty = (counts[:k] == 0).nonzero().squeeze(1).tolist()
            raise ValueError(f"every bin needs members; labels outside 0..{k - 1} or empty {empty}")
        order = torch.sort(-counts, stable=True).indices
        rank = torch.empty_like(order)
        rank[order] = torch.arange(k, device=order.device)
        sorted_labels = rank[labels]
        sorted_counts = counts[order]
        n = x.shape[0]
        centres = _member_means(x, sorted_labels, sorted_counts)
        plain = mean is None and dims is None  # the binning space is the data space
        return cls(
            centres=centres.float().cpu().numpy(),
            ref_proportions=(sorted_counts.double() / n).cpu().numpy(),
            ref_counts=sorted_counts.cpu().numpy(),
            ref_labels=sorted_labels.cpu().numpy(),
            n_ref=n,
            fit_centres=centres if plain else _member_means(space, sorted_labels, sorted_counts),
            dims=dims,
            mean=mean,
            std=std,
        )

    def assign(self, samples: Any) -> np.ndarray:
        """The bin of every sample: the nearest centre, as the reference assigns them."""
        x = _as_rows(samples, self.device)
        if x.shape[1] != self.centres.shape[1]:
            raise ValueError(
                f"samples have {x.shape[1]} values each, the bins were built on "
                f"{self.centres.shape[1]}"
            )
        labels, _ = assign(_project(x, self.mean, self.std, self.dims), self.fit_centres)
        return labels.cpu().numpy()

    def evaluate(
        self, samples: Any, *, alpha: float = 0.05, z_threshold: float | None = None
    ) -> NDBResult:
        """NDB, NDB/K and JS of ``samples`` against the reference bins."""
        labels = self.assign(samples)
        n = int(labels.shape[0])
        query = np.bincount(labels, minlength=self.bins) / n
        ref = self.ref_proportions
        z = two_proportion_z(ref, self.n_ref, query, n)
        different = significant(z, alpha, z_threshold)
        ndb = int(np.count_nonzero(different))
        return NDBResult(
            ndb=ndb,
            ndb_k=ndb / self.bins,
            js=js_divergence(ref, query),
            bins=self.bins,
            ref_proportions=ref.copy(),
            query_proportions=query,
            z=np.asarray(z, dtype=np.float64),
            different=different,
            ref_se=np.sqrt(ref * (1.0 - ref) * (1.0 / self.n_ref + 1.0 / n)),
            n_ref=self.n_ref,
            n_query=n,
        )


def _whitening(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The reference's per-dimension mean and population std (+1e-6), in float64."""
    x64 = x.double()
    return x64.mean(0), x64.std(0, correction=0) + WHITEN_EPS


def _project(
    x: torch.Tensor,
    mean: torch.Tensor | None,
    std: torch.Tensor | None,
    dims: torch.Tensor | None,
) -> torch.Tensor:
    """Samples in the binning space, in float64: whitened if asked, restricted to ``dims``.

    float64 costs little here (elementwise work) and lets the assignment decide near-ties
    exactly as the reference's float64 code does; the distances themselves are float32.
    """
    x = x.double()
    if dims is not None:
        dims = dims.to(x.device)
        x = x.index_select(1, dims)
        mean = mean.index_select(0, dims) if mean is not None else None
        std = std.index_select(0, dims) if std is not None else None
    if mean is not None and std is not None:
        x = (x - mean.to(x.device)) / std.to(x.device)
    return x


def _member_means(x: torch.Tensor, labels: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
    """Mean (float64) of every cluster's members, summed in float64, in chunks of rows."""
    sums = torch.zeros(counts.shape[0], x.shape[1], dtype=torch.float64, device=x.device)
    step = 1 << 14
    for start in range(0, x.shape[0], step):
        sums.index_add_(0, labels[start : start + step], x[start : start + step].double())
    return sums / counts.double().unsqueeze(1)


def _sample_shape(data: Any) -> tuple[int, ...]:
    """Shape of one sample, e.g. (1, 28, 28): lets centres be drawn as images."""
    shape = data.shape if hasattr(data, "shape") else np.shape(data)
    return tuple(int(s) for s in shape[1:])
