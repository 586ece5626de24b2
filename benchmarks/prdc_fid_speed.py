"""PRDC and FID: ganwatch beside the reference implementations, in one run, same machine.

- PRDC: ``ganwatch.metrics.prdc.prdc`` (float32 default, and float64) vs the ``prdc``
  package's ``compute_prdc`` (sklearn pairwise distances, full N x N matrices).
- FID: ``ganwatch.metrics.fid.fid`` (float64 statistics, eigenvalue-based trace of the
  square root) vs the direct computation: ``np.cov`` + ``scipy.linalg.sqrtm``.

Data: 10,000 x 10,000 random D-dimensional float32 features (fake shifted by 0.1 per
coordinate), and, when a data folder is given, 10,000 MNIST train vs 10,000 MNIST test
images flattened to 784 dimensions and in the MNIST classifier's 128-D feature space (what
ganwatch measures images in). Every library is warmed up on a tiny input first; each
timing is the median of ``--repeats`` runs. Prints a markdown table.

    python benchmarks/prdc_fid_speed.py [--n 10000] [--dim 64] [--k 5] [--repeats 1]
                                        [--data-dir DIR | $GANWATCH_DATA_DIR] [--no-mnist]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import io
import os
import platform
import shlex
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import prdc as prdc_package
import scipy
import scipy.linalg
import sklearn
import torch

from ganwatch.metrics.fid import fid
from ganwatch.metrics.prdc import prdc

PRDC_KEYS = ("precision", "recall", "density", "coverage")


@dataclass
class Row:
    data: str
    metric: str
    reference_s: float
    ours_s: float
    note: str


def timed(fn: Callable[[], object], repeats: int) -> tuple[float, object]:
    """Median wall time of ``repeats`` calls, and the last result."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def reference_prdc(real: np.ndarray, fake: np.ndarray, k: int) -> dict[str, float]:
    with contextlib.redirect_stdout(io.StringIO()):  # the package prints the set sizes
        return {key: float(v) for key, v in prdc_package.compute_prdc(real, fake, k).items()}


def reference_fid(a: np.ndarray, b: np.ndarray) -> float:
    """The direct computation: float64 numpy statistics, scipy.linalg.sqrtm."""
    a, b = a.astype(np.float64), b.astype(np.float64)
    mu1, mu2 = a.mean(axis=0), b.mean(axis=0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def warm_up() -> None:
    """First calls initialise thread pools and BLAS; keep that out of every timing."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((300, 16)).astype(np.float32)
    b = rng.standard_normal((300, 16)).astype(np.float32)
    reference_prdc(a, b, 5)
    reference_fid(a, b)
    prdc(a, b, 5)
    prdc(a, b, 5, dtype=torch.float64)
    fid(a, b)


def max_diff(ours: dict[str, float], ref: dict[str, float]) -> float:
    return max(abs(ours[key] - ref[key]) for key in PRDC_KEYS)


def bench_prdc(name: str, real: np.ndarray, fake: np.ndarray, k: int, repeats: int) -> list[Row]:
    ref_s, ref = timed(lambda: reference_prdc(real, fake, k), repeats)
    f32_s, f32 = timed(lambda: prdc(real, fake, k), repeats)
    f64_s, f64 = timed(lambda: prdc(real, fake, k, dtype=torch.float64), repeats)
    values = ", ".join(f"{key[:4]} {ref[key]:.4f}" for key in PRDC_KEYS)
    return [
        Row(name, f"PRDC k={k}, float32 (default)", ref_s, f32_s,
            f"max abs diff {max_diff(f32, ref):.1e}; reference: {values}"),
        Row(name, f"PRDC k={k}, float64", ref_s, f64_s,
            f"max abs diff {max_diff(f64, ref):.1e}"),
    ]  # fmt: skip


def bench_fid(name: str, a: np.ndarray, b: np.ndarray, repeats: int) -> list[Row]:
    ref_s, ref = timed(lambda: reference_fid(a, b), repeats)
    ours_s, ours = timed(lambda: fid(a, b), repeats)
    rel = abs(ours - ref) / abs(ref)
    return [Row(name, "FID", ref_s, ours_s, f"FID {ours:.6g} vs {ref:.6g}, rel diff {rel:.1e}")]


def random_features(n: int, dim: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    real = rng.standard_normal((n, dim)).astype(np.float32)
    fake = (rng.standard_normal((n, dim)) + 0.1).astype(np.float32)
    return real, fake


def mnist_features(n: int, data_dir: str) -> tuple[np.ndarray, np.ndarray]:
    from ganwatch.data import load_dataset

    sets = []
    for split in ("train", "test"):
        images = load_dataset("mnist", split=split, data_dir=data_dir, device="cpu").data[:n]
        sets.append(images.reshape(images.shape[0], -1).numpy())
    return sets[0], sets[1]


def classifier_feature_sets(pixels: tuple[np.ndarray, np.ndarray], data_dir: str):
    """The same images in the MNIST classifier's 128-D feature space, where ganwatch computes
    FID, KID and PRDC of images (the classifier is trained and cached on first use)."""
    from ganwatch.metrics.classifier import classifier_features
    from ganwatch.metrics.classifier_training import load_classifier

    model = load_classifier("mnist", data_dir=data_dir)
    return tuple(classifier_features(model, x.reshape(-1, 1, 28, 28)).numpy() for x in pixels)


def device_line() -> str:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        cpu = names[0] if names else cpu
    return f"CPU {cpu}, {os.cpu_count()} cores, torch threads {torch.get_num_threads()}"


def load_average() -> str:
    """The machine's 1-minute load average: other processes on a shared CPU skew timings."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "unknown"


def print_report(rows: list[Row], argv: list[str], load_before: str) -> None:
    versions = (
        f"python {platform.python_version()}, torch {torch.__version__}, numpy "
        f"{np.__version__}, scipy {scipy.__version__}, scikit-learn {sklearn.__version__}, "
        f"prdc {importlib.metadata.version('prdc')}"
    )
    print(f"date: {time.strftime('%Y-%m-%d %H:%M')}")
    print(f"device: {device_line()}")
    print(f"versions: {versions}")
    print(f"command: {shlex.join([os.path.basename(sys.executable), *argv])}")
    print(f"load average (1 min): {load_before} before, {load_average()} after")
    print()
    print("| data | metric | reference (s) | ganwatch (s) | speed-up | agreement |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        speedup = r.reference_s / r.ours_s
        print(
            f"| {r.data} | {r.metric} | {r.reference_s:.3f} | {r.ours_s:.3f} "
            f"| {speedup:.1f}x | {r.note} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="samples per set")
    parser.add_argument("--dim", type=int, default=64, help="random feature dimension")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument(
        "--data-dir",
        default=os.environ.get("GANWATCH_DATA_DIR"),
        help="folder with the MNIST IDX files (default $GANWATCH_DATA_DIR)",
    )
    parser.add_argument("--no-mnist", action="store_true", help="random features only")
    args = parser.parse_args()
    load_before = load_average()
    warm_up()
    cases = [(f"random D={args.dim}", *random_features(args.n, args.dim))]
    if args.data_dir and not args.no_mnist:
        pixels = mnist_features(args.n, args.data_dir)
        cases.append(("MNIST train vs test, D=784", *pixels))
        features = classifier_feature_sets(pixels, args.data_dir)
        cases.append(("MNIST train vs test, classifier features D=128", *features))
    rows = []
    for name, real, fake in cases:
        label = f"{name}, {len(real):,} x {len(fake):,}"
        rows += bench_prdc(label, real, fake, args.k, args.repeats)
        rows += bench_fid(label, real, fake, args.repeats)
    print_report(rows, sys.argv, load_before)


if __name__ == "__main__":
    main()
