"""Every number ganwatch records, by key: its label, and which way is better.

Keys use ``/`` namespaces: ``loss/...`` and ``d/...`` and ``grad/...`` per generator step,
``metric/...`` per evaluation. ``higher_is_better`` is None where neither direction is good in
itself (a loss, a count of classes). ``group`` puts metrics drawn in one chart together;
``color`` and ``dash`` are how the dashboard draws a series.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class KeySpec:
    """One recorded key."""

    key: str
    label: str
    summary: str
    higher_is_better: bool | None = None
    group: str | None = None
    group_title: str | None = None
    color: str | None = None
    dash: tuple[int, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["better"] = {True: "higher", False: "lower", None: None}[self.higher_is_better]
        return out


#: What every generator step records, in this order: the article's three losses, D's mean
#: outputs and the two gradient norms.
STEP_KEYS: tuple[KeySpec, ...] = (
    KeySpec("loss/g", "G loss", "the generator's loss", color="#3b5bdb"),
    KeySpec(
        "loss/d_real", "D loss (real)", "the discriminator's loss on real data", color="#2b8a3e"
    ),
    KeySpec(
        "loss/d_fake",
        "D loss (fake)",
        "the discriminator's loss on generated data",
        color="#e8590c",
    ),
    KeySpec(
        "d/real",
        "D(x)",
        "mean D(x), a probability (logit losses only)",
        color="#0c8599",
        dash=(6, 3),
    ),
    KeySpec(
        "d/fake",
        "D(G(z))",
        "mean D(G(z)), a probability (logit losses only)",
        color="#f59f00",
        dash=(6, 3),
    ),
    KeySpec("grad/g", "‖∇G‖", "L2 norm of all of G's gradients", color="#7048e8", dash=(2, 3)),
    KeySpec("grad/d", "‖∇D‖", "L2 norm of all of D's gradients", color="#868e96", dash=(2, 3)),
)

#: What some losses and models add to a step (recorded per epoch, as means).
EXTRA_STEP_KEYS: tuple[KeySpec, ...] = (
    KeySpec("loss/penalty", "Gradient penalty", "WGAN-GP's or DRAGAN's penalty, unweighted"),
    KeySpec("loss/aux", "Auxiliary loss", "ACGAN's class loss or InfoGAN's code loss"),
    KeySpec("began/k", "BEGAN k", "BEGAN's balance k_t"),
    KeySpec(
        "began/convergence",
        "BEGAN M",
        "BEGAN's global convergence measure M",
        higher_is_better=False,
    ),
)

#: What each epoch records besides the steps' means and the metrics.
EPOCH_KEYS: tuple[KeySpec, ...] = (
    KeySpec("loss/g_std", "G loss std", "the generator loss's spread within the epoch"),
    KeySpec(
        "time/epoch_s",
        "Epoch time (s)",
        "training and recording time of the epoch",
        higher_is_better=False,
    ),
    KeySpec("speed/images_per_s", "Images/s", "training images per second", higher_is_better=True),
    KeySpec(
        "time/metrics_s",
        "Metrics time (s)",
        "time spent measuring the epoch",
        higher_is_better=False,
    ),
    KeySpec("score/real", "Score (real)", "mean critic score of real data (score losses)"),
    KeySpec("score/fake", "Score (fake)", "mean critic score of generated data (score losses)"),
    KeySpec("energy/real", "Energy (real)", "mean energy of real data (energy losses)"),
    KeySpec("energy/fake", "Energy (fake)", "mean energy of generated data (energy losses)"),
)

_PRDC = "Precision · recall · density · coverage (higher is better)"

#: The measurements of samples against real data (``metric/...``).
METRICS: tuple[KeySpec, ...] = (
    KeySpec(
        "metric/ndb_k",
        "NDB/K",
        "share of NDB bins whose share of samples differs",
        False,
        "ndb",
        "NDB/K: share of bins that differ (lower is better)",
    ),
    KeySpec(
        "metric/classes_covered",
        "Classes covered",
        "classes the samples cover",
        True,
        "classes",
        "Classes covered (higher is better)",
    ),
    KeySpec("metric/classes", "Classes", "classes the reference has"),
    KeySpec(
        "metric/class_kl",
        "Class KL",
        "KL(generated classes || reference classes)",
        False,
        "class_kl",
        "Class distribution KL (lower is better)",
    ),
    KeySpec(
        "metric/realism",
        "Realism",
        "share of samples as close to real data as real data of their class is",
        True,
        "fidelity",
        "Realism and detail (higher is better; real data scores about 1)",
        color="#3b5bdb",
    ),
    KeySpec(
        "metric/pixel_realism",
        "Pixel realism",
        "share of samples as close, in pixels, to real images as real images of their class are",
        True,
        "fidelity",
        "Realism and detail (higher is better; real data scores about 1)",
        color="#2f9e44",
    ),
    KeySpec(
        "metric/detail",
        "Detail",
        "fine detail relative to real images of the same class (blur scores low)",
        True,
        "fidelity",
        "Realism and detail (higher is better; real data scores about 1)",
        color="#e8590c",
    ),
    KeySpec(
        "metric/fid",
        "FID",
        "Fréchet distance of feature Gaussians",
        False,
        "fid",
        "FID (lower is better)",
    ),
    KeySpec(
        "metric/kid",
        "KID",
        "kernel inception distance (unbiased MMD²)",
        False,
        "kid",
        "KID (lower is better)",
    ),
    KeySpec(
        "metric/precision",
        "Precision",
        "share of samples within real data's k-NN balls",
        True,
        "prdc",
        _PRDC,
        color="#3b5bdb",
    ),
    KeySpec(
        "metric/recall",
        "Recall",
        "share of real data within the samples' k-NN balls",
        True,
        "prdc",
        _PRDC,
        color="#e8590c",
    ),
    KeySpec(
        "metric/density",
        "Density",
        "how many real k-NN balls hold a sample, on average",
        True,
        "prdc",
        _PRDC,
        color="#2b8a3e",
    ),
    KeySpec(
        "metric/coverage",
        "Coverage",
        "share of real samples with a sample in their ball",
        True,
        "prdc",
        _PRDC,
        color="#c2255c",
    ),
    KeySpec(
        "metric/diversity",
        "Diversity",
        "spread of a batch relative to real batches",
        True,
        "diversity",
        "Diversity (higher is better)",
    ),
    KeySpec("metric/modes_captured", "Modes captured", "toy modes holding enough samples", True),
    KeySpec("metric/modes", "Modes", "modes the toy mixture has"),
    KeySpec(
        "metric/high_quality", "High quality", "share of samples within 3 sigma of a mode", True
    ),
    KeySpec("metric/mode_kl", "Mode KL", "KL(sample mode shares || uniform)", False),
    KeySpec(
        "metric/stacked_modes", "Stacked modes", "Stacked MNIST modes covered (of 1,000)", True
    ),
    KeySpec("metric/stacked_kl", "Stacked KL", "KL(Stacked MNIST modes || uniform)", False),
)

_ALL = {spec.key: spec for spec in (*STEP_KEYS, *EXTRA_STEP_KEYS, *EPOCH_KEYS, *METRICS)}


def key_spec(key: str) -> KeySpec | None:
    """The spec of a recorded key (None for keys a user's own loop invents)."""
    return _ALL.get(key)


def step_key_names() -> tuple[str, ...]:
    """The names of STEP_KEYS, in order (the columns of a step row)."""
    return tuple(spec.key for spec in STEP_KEYS)


#: The metrics ``ganwatch metrics`` computes one at a time (each gives several keys).
METRIC_FAMILIES: tuple[str, ...] = ("ndb", "prdc", "fid", "kid", "modes")
