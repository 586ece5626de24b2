"""The ground truth of the validation corpus: an independent judge of a generator's samples.

The detectors are scored against it, so it must not be them in disguise. It draws its own
JUDGE_SAMPLES = 10,000 fresh samples after every evaluation (the Monitor measures 512 from a
fixed seed), and it decides by other rules, with another classifier:

- images: a fully connected digit classifier trained for the judge alone (the metrics use a
  convolutional one). A sample is *recognisable* when that classifier is at least 90% sure
  of its class and its ink (mean intensity) lies within the range of 99% of real images;
  the ink test is what keeps a blank image, which any classifier calls a confident "1",
  from counting. Its pixels must also lie as close to the real digits' 30-dimensional
  principal subspace as 99% of real images do (the residual after projecting onto it). That
  keeps out speckled images: digit-shaped noise that the classifier names confidently but no
  person would take for a digit (seen by eye on the calibration half's grids, Adam's default
  betas: one speckled shape, 40 to 90% "recognisable" by the classifier alone, 6 to 23%
  within the residual). Neither test is used by the detectors. A class is *held* when it
  gets at least a quarter of its fair share of the recognisable samples.
- points: a sample is on a mode within 3 sigma of it; a mode is held when it gets at least a
  quarter of its fair share of the on-mode samples.

From those: ``convergence_failure`` when fewer than 30% of the samples are recognisable (on a
mode); ``mode_collapse`` when at least 30% are but fewer than 75% of the classes (modes) are
held or the class distribution is far from the data's (KL > 0.5); ``healthy`` when at least
50% are recognisable, every class is held and the KL is at most 0.15; ``undecided`` in
between, where neither call is wrong, so it is not scored. ``divergence`` is a run whose
losses became non-finite.

``mixed_failure``: collapsed, and within ``MIXED_BAND`` (0.1) of the 30% line. Both failures
are then present, and the judge cannot tell which dominates: its recognisable share swings by
0.2 between consecutive epochs whose grids look alike (calibration half, latent size 2, seed
0: epochs 11 and 13 at 0.42 and 0.22, both a few noisy digit shapes). Either failure verdict
is right there, a healthy one is wrong (``validation.score``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

JUDGE_SAMPLES = 10_000
JUDGE_SEED = 20_261_130  # any seed but the Monitor's (12345): fresh samples
CONFIDENT = 0.9
INK_QUANTILES = (0.005, 0.995)
SUBSPACE_DIM = 30
RESIDUAL_QUANTILE = 0.99
HELD_SHARE = 0.25
FAILED_BELOW = 0.30  # recognisable share below which nothing is data-like
MIXED_BAND = 0.10  # how near FAILED_BELOW a collapsed set is both failures
HEALTHY_FROM = 0.50
COLLAPSED_BELOW = 0.75  # fraction of classes held below which it is a collapse
COLLAPSED_KL = 0.5
HEALTHY_KL = 0.15
#: Bumped when the judge's rules change, so a cached judge of old rules is never loaded.
JUDGE_VERSION = 2
LABELS = (
    "healthy",
    "mode_collapse",
    "convergence_failure",
    "mixed_failure",
    "divergence",
    "undecided",
)
#: What each truth accepts as a right verdict (``undecided`` accepts none: it is not scored).
RIGHT_VERDICTS = {
    "healthy": ("healthy",),
    "mode_collapse": ("mode_collapse",),
    "convergence_failure": ("convergence_failure",),
    "mixed_failure": ("mode_collapse", "convergence_failure"),
    "divergence": ("divergence",),
    "undecided": (),
}


@dataclass(frozen=True)
class Truth:
    """One evaluation's ground truth and the numbers behind it."""

    label: str
    quality: float  # share of recognisable (on-mode) samples
    held: int  # classes (modes) held
    classes: int
    kl: float  # KL(held-class shares || uniform)

    def to_dict(self) -> dict:
        return asdict(self)

    def relabelled(self, mixed_band: float = MIXED_BAND) -> Truth:
        """This truth labelled again from its numbers by the current rules (``mixed_band`` 0:
        the 30% line alone). A divergence is about the losses, not the numbers, and stays."""
        if self.label == "divergence":
            return self
        label = label_from(self.quality, self.held, self.classes, self.kl, mixed_band)
        return replace(self, label=label)


def label_from(
    quality: float, held: int, classes: int, kl: float, mixed_band: float = MIXED_BAND
) -> str:
    """The verdict a person would give these numbers (the rules of the module docstring);
    ``mixed_band`` 0 draws the 30% line alone, with no mixed band."""
    if not math.isfinite(quality):
        return "convergence_failure"
    collapsed = held < COLLAPSED_BELOW * classes or kl > COLLAPSED_KL
    if collapsed and abs(quality - FAILED_BELOW) < mixed_band:
        return "mixed_failure"
    if quality < FAILED_BELOW:
        return "convergence_failure"
    if collapsed:
        return "mode_collapse"
    if quality >= HEALTHY_FROM and held == classes and kl <= HEALTHY_KL:
        return "healthy"
    return "undecided"


def truth_of_counts(counts: np.ndarray, good: int, total: int) -> Truth:
    """The truth from per-class counts of the ``good`` recognisable samples out of ``total``."""
    counts = np.asarray(counts, dtype=float)
    classes = len(counts)
    quality = good / total if total else math.nan
    held = int((counts >= HELD_SHARE * counts.sum() / classes).sum()) if counts.sum() else 0
    shares = counts / counts.sum() if counts.sum() else np.full(classes, 1.0 / classes)
    present = shares > 0
    kl = float(np.sum(shares[present] * np.log(shares[present] * classes)))
    return Truth(label_from(quality, held, classes, kl), quality, held, classes, kl)


class JudgeClassifier(nn.Module):
    """A fully connected digit classifier (784 -> 512 -> 10), unlike the metrics' CNN, with
    the real digits' ink range and principal subspace (its mean, basis and residual limit)."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 10))
        self.register_buffer("ink_range", torch.zeros(2))
        self.register_buffer("pixel_mean", torch.zeros(784))
        self.register_buffer("basis", torch.zeros(SUBSPACE_DIM, 784))
        self.register_buffer("residual_limit", torch.zeros(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def _ink(x: torch.Tensor) -> torch.Tensor:
    """Mean intensity of each image in [0, 1] (the background is 0)."""
    return ((x.flatten(1) + 1) / 2).mean(dim=1)


def subspace_residual(
    images: torch.Tensor, mean: torch.Tensor, basis: torch.Tensor
) -> torch.Tensor:
    """Each image's distance from the affine subspace ``mean + span(basis)`` (orthonormal rows)."""
    centred = images.flatten(1).double() - mean.double()
    projected = (centred @ basis.double().T) @ basis.double()
    return (centred - projected).norm(dim=1).float()


def _fit_subspace(model: JudgeClassifier, images: torch.Tensor) -> None:
    """The principal subspace of the real images and the residual 99% of them stay within."""
    flat = images.flatten(1).double()
    mean = flat.mean(dim=0)
    _, _, right = torch.linalg.svd(flat - mean, full_matrices=False)
    basis = right[:SUBSPACE_DIM]
    residual = subspace_residual(images, mean, basis)
    model.pixel_mean.copy_(mean.float())
    model.basis.copy_(basis.float())
    model.residual_limit.copy_(torch.quantile(residual, RESIDUAL_QUANTILE))


def train_judge(images: torch.Tensor, labels: torch.Tensor, seed: int = 7) -> JudgeClassifier:
    """Train the judge on real images in [-1, 1] (a few seconds on a CPU; ~97% accurate)."""
    torch.manual_seed(seed)
    model = JudgeClassifier()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    rng = torch.Generator().manual_seed(seed)
    for _ in range(4):
        for index in torch.randperm(len(images), generator=rng).split(128):
            loss = nn.functional.cross_entropy(model(images[index]), labels[index])
            opt.zero_grad()
            loss.backward()
            opt.step()
    ink = _ink(images)
    model.ink_range.copy_(torch.quantile(ink, torch.tensor(INK_QUANTILES)))
    _fit_subspace(model, images)
    return model.eval()


def load_judge(data_dir: str | None = None) -> JudgeClassifier:
    """The judge for MNIST, trained once and cached beside the metrics' classifiers."""
    from ganwatch.data import load_dataset
    from ganwatch.data.download import cache_root
    from ganwatch.metrics.classifier_training import dataset_checksum

    path = (
        Path(cache_root())
        / "classifiers"
        / f"judge{JUDGE_VERSION}-{dataset_checksum('mnist', data_dir=data_dir)[:12]}.pt"
    )
    model = JudgeClassifier()
    if path.is_file():
        model.load_state_dict(torch.load(path, weights_only=True))
        return model.eval()
    train = load_dataset("mnist", data_dir=data_dir)
    model = train_judge(train.data.cpu(), train.labels.cpu())
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), path)
    return model


@torch.no_grad()
def image_truth(samples: torch.Tensor, judge: JudgeClassifier) -> Truth:
    """The truth of image samples (N, 1, 28, 28) in [-1, 1]."""
    x = samples.float().reshape(-1, 1, 28, 28)
    probs = torch.cat([judge(part).softmax(dim=1) for part in x.split(2048)])
    low, high = judge.ink_range.tolist()
    ink = _ink(x)
    residual = subspace_residual(x, judge.pixel_mean, judge.basis)
    good = (
        (probs.max(dim=1).values >= CONFIDENT)
        & (ink >= low)
        & (ink <= high)
        & (residual <= judge.residual_limit)
    )
    counts = torch.bincount(probs.argmax(dim=1)[good], minlength=10).numpy()
    return truth_of_counts(counts, int(good.sum()), len(x))


def point_truth(samples: torch.Tensor, dataset: str) -> Truth:
    """The truth of 2-D samples of a toy mixture."""
    from ganwatch.data.toy import mode_centres, mode_sigma
    from ganwatch.metrics.toy import toy_mode_metrics

    result = toy_mode_metrics(samples.float().numpy(), mode_centres(dataset), mode_sigma(dataset))
    counts = np.asarray(result["histogram"])
    return truth_of_counts(counts, int(counts.sum()), len(samples))


@torch.no_grad()
def judge_generator(
    generator: nn.Module, latent_dim: int, dataset: str, epoch: int, judge: JudgeClassifier | None
) -> Truth:
    """Draw JUDGE_SAMPLES fresh samples (noise the training never uses) and judge them."""
    device = next(generator.parameters()).device
    noise = torch.randn(
        JUDGE_SAMPLES, latent_dim, generator=torch.Generator().manual_seed(JUDGE_SEED + epoch)
    )
    samples = torch.cat([generator(z.to(device)).float().cpu() for z in noise.split(2048)])
    if samples.dim() == 2:
        return point_truth(samples, dataset)
    return image_truth(samples, judge)
