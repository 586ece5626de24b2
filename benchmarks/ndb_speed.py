"""NDB on MNIST: the authors' procedure (scikit-learn) beside ganwatch's NDBBins, in one run.

Reference set: the first N training images (default 10,000); query: the 10,000 test images;
K = 100 bins. Both sides get the same float values (ganwatch's [-1, 1] scaling) and the same
number of threads.

(a) The procedure of ``utils/ndb.py`` in eitanrich/gans-n-gmms, redone here: scikit-learn
    ``KMeans(n_clusters=K, max_iter=100)`` with the defaults that code relied on in 2018
    (``n_init=10`` greedy k-means++ initialisations, ``tol=1e-4``; today's default
    ``n_init="auto"`` would run a single one, and ``n_jobs`` no longer exists), float64 data
    as its demo loads it, member-mean centres sorted by size; then its evaluation: a loop over
    the bins taking L2 norms of the (whitened, dimension-indexed) query minus each centre,
    argmin, the z-test and JS.
(b) ``NDBBins.fit`` (same k-means algorithm and settings, in torch) and ``evaluate``.

The fit and one evaluation are timed separately (wall clock). Prints a markdown table.

    python benchmarks/ndb_speed.py --data-dir DIR [--n-ref 10000] [--bins 100] [--threads N]
"""

from __future__ import annotations

import argparse
import datetime
import platform
import sys
import time
from dataclasses import dataclass

import numpy as np
import sklearn
import torch
from scipy.stats import norm
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits

from ganwatch.data import load_dataset
from ganwatch.metrics.ndb import NDBBins


@dataclass
class Outcome:
    """Times (seconds) and scores of one side."""

    fit_s: float
    evaluate_s: float
    ndb: int
    js: float
    inertia: float


@dataclass
class ReferenceBins:
    """What the reference's ``construct_bins`` keeps."""

    centres: np.ndarray
    proportions: np.ndarray
    n: int
    used_dims: np.ndarray
    inertia: float


def reference_fit(train: np.ndarray, k: int, seed: int, algorithm: str) -> ReferenceBins:
    """The reference's binning: k-means, member means (whitened space), sorted by size."""
    n, d = train.shape
    mean, std = 0.0, 1.0  # whitening=False, as in the authors' MNIST demo
    white = (train - mean) / std
    used = np.random.default_rng(seed).choice(d, d, replace=False)  # d <= 1000: all dims
    clusters = KMeans(
        n_clusters=k, max_iter=100, n_init=10, tol=1e-4, algorithm=algorithm, random_state=seed
    ).fit(white[:, used])
    centres = np.zeros((k, d))
    for b in range(k):
        centres[b] = white[clusters.labels_ == b].mean(axis=0)
    _, counts = np.unique(clusters.labels_, return_counts=True)
    order = np.argsort(-counts)
    return ReferenceBins(centres[order], counts[order] / counts.sum(), n, used, clusters.inertia_)


def reference_evaluate(bins: ReferenceBins, query: np.ndarray) -> tuple[int, float]:
    """The reference's evaluation: per-bin L2 norms, argmin, z-test, JS."""
    n, k = query.shape[0], bins.centres.shape[0]
    white = (query - 0.0) / 1.0
    dist = np.zeros((n, k), dtype=query.dtype)
    for b in range(k):
        diff = white[:, bins.used_dims] - bins.centres[b, bins.used_dims]
        dist[:, b] = np.linalg.norm(diff, ord=2, axis=1)
    labels = np.argmin(dist, axis=1)
    q = np.zeros(k)
    values, counts = np.unique(labels, return_counts=True)
    q[values] = counts / n
    p, n1 = bins.proportions, bins.n
    pooled = (p * n1 + q * n) / (n1 + n)
    z = (p - q) / np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n))
    ndb = int(np.count_nonzero(2.0 * norm.cdf(-np.abs(z)) < 0.05))
    m = 0.5 * (p + q)
    js = 0.5 * sum(float(np.sum(a[a > 0] * np.log(a[a > 0] / m[a > 0]))) for a in (p, q))
    return ndb, js


def run_reference(train: np.ndarray, query: np.ndarray, args: argparse.Namespace) -> Outcome:
    start = time.perf_counter()
    bins = reference_fit(train, args.bins, args.seed, args.sklearn_algorithm)
    fitted = time.perf_counter()
    ndb, js = reference_evaluate(bins, query)
    done = time.perf_counter()
    return Outcome(fitted - start, done - fitted, ndb, js, bins.inertia)


def run_ganwatch(train: torch.Tensor, query: torch.Tensor, args: argparse.Namespace) -> Outcome:
    if args.device.startswith("cuda"):
        torch.cuda.synchronize()
    start = time.perf_counter()
    bins = NDBBins.fit(train, args.bins, seed=args.seed, device=args.device)
    fitted = time.perf_counter()
    result = bins.evaluate(query)
    done = time.perf_counter()
    return Outcome(fitted - start, done - fitted, result.ndb, result.js, bins.kmeans_inertia)


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def table(ref: Outcome, ours: Outcome) -> str:
    rows = [
        ("bins fit (k-means, 10 inits)", ref.fit_s, ours.fit_s),
        ("one evaluation (10,000 samples)", ref.evaluate_s, ours.evaluate_s),
        ("fit + evaluation", ref.fit_s + ref.evaluate_s, ours.fit_s + ours.evaluate_s),
    ]
    lines = [
        "| step | reference (scikit-learn) | ganwatch | speed-up |",
        "|---|---:|---:|---:|",
    ]
    for name, a, b in rows:
        lines.append(f"| {name} | {a:.3f} s | {b:.3f} s | {a / b:.1f}x |")
    lines += [
        "",
        "| scores | reference | ganwatch |",
        "|---|---:|---:|",
        f"| NDB (K bins) | {ref.ndb} | {ours.ndb} |",
        f"| JS | {ref.js:.5f} | {ours.js:.5f} |",
        f"| k-means inertia (best of 10) | {ref.inertia:.1f} | {ours.inertia:.1f} |",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", default=None, help="MNIST folder (else $GANWATCH_DATA_DIR)")
    parser.add_argument("--n-ref", type=int, default=10_000, help="reference (train) images")
    parser.add_argument("--bins", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="threads for both sides")
    parser.add_argument("--device", default="cpu", help="ganwatch's device (cpu, cuda)")
    parser.add_argument(
        "--sklearn-algorithm",
        default="lloyd",
        choices=("lloyd", "elkan"),
        help="scikit-learn's KMeans algorithm (2018's default was elkan, today's is lloyd)",
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    threads = torch.get_num_threads()

    train = load_dataset("mnist", split="train", data_dir=args.data_dir, size=args.n_ref)
    test = load_dataset("mnist", split="test", data_dir=args.data_dir)
    train_x, test_x = train.data.flatten(1), test.data.flatten(1)
    ref_train = train_x.numpy().astype(np.float64)  # the demo loads images as float64
    ref_query = test_x.numpy().astype(np.float64)

    with threadpool_limits(threads):
        ref = run_reference(ref_train, ref_query, args)
    ours = run_ganwatch(train_x.to(args.device), test_x.to(args.device), args)

    device = torch.cuda.get_device_name() if args.device.startswith("cuda") else cpu_name()
    print(f"## NDB speed: {len(train):,} MNIST train images as reference, {len(test):,} test")
    print()
    print(f"- date: {datetime.datetime.now().isoformat(timespec='seconds')}")
    print(f"- device: {args.device} ({device}); CPU threads for both sides: {threads}")
    print(
        f"- torch {torch.__version__}, scikit-learn {sklearn.__version__} "
        f"(KMeans algorithm={args.sklearn_algorithm}), numpy {np.__version__}, "
        f"Python {platform.python_version()}"
    )
    print(f"- command: `{' '.join([sys.executable.rsplit('/', 1)[-1], *sys.argv])}`")
    print()
    print(table(ref, ours))


if __name__ == "__main__":
    main()
