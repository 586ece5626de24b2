"""Remedies: what to try for a verdict, each naming the ganwatch flag that applies it.

The article's fixes come first when the run's config deviates from the article's stable
values (lr <= 2e-4, beta1 = 0.5, latent dimension 128), because that deviation is then the
likeliest cause. Flags for stabilisers and losses that are not implemented yet
(`--stabilize ...`, `--loss ...`) are named as they will be; see docs/diagnosis.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ganwatch.diagnose.verdict import Remedy

ARTICLE_LR = 2e-4
ARTICLE_BETA1 = 0.5
ARTICLE_LATENT_DIM = 128
SMALL_LATENT_DIM = 16  # below this, the article's runs collapse (latent 2 and 1)
MAX_REMEDIES = 5  # a short list gets read; the first entries are the likeliest fixes

# Flags `ganwatch train` accepts today; the others are planned.
IMPLEMENTED_FLAGS = ("--lr", "--beta1", "--latent-dim", "--d-steps")

STABILIZERS: dict[str, str] = {
    "feature-matching": "Train G to match D's intermediate features (feature matching)",
    "historical-averaging": "Penalise parameters far from their running average "
    "(historical averaging)",
    "ttur": "Use two time-scale updates: a faster discriminator learning rate (TTUR)",
    "spectral-norm": "Constrain D's Lipschitz constant with spectral normalisation",
    "minibatch-discrimination": "Let D compare samples within a batch (minibatch discrimination)",
    "pacgan": "Let D judge packs of samples together (PacGAN)",
    "instance-noise": "Add decaying noise to D's inputs (instance noise)",
    "label-smoothing": "Smooth D's real labels to 0.9 (one-sided label smoothing)",
}


def flag_available(flag: str) -> bool:
    """Whether `ganwatch train` accepts this remedy's flag today."""
    return flag.split(" ")[0] in IMPLEMENTED_FLAGS


def _active_stabilizers(config: Mapping[str, Any]) -> set[str]:
    value = config.get("stabilize") or ()
    return {value} if isinstance(value, str) else set(value)


def _stabilize(name: str, config: Mapping[str, Any]) -> Remedy | None:
    if name in _active_stabilizers(config):
        return None
    return Remedy(STABILIZERS[name], f"--stabilize {name}")


def _wgan_gp(config: Mapping[str, Any]) -> Remedy | None:
    if config.get("loss") == "wgan-gp":
        return None
    return Remedy(
        "Switch to the Wasserstein loss with gradient penalty (WGAN-GP)", "--loss wgan-gp"
    )


def _lower_lr(config: Mapping[str, Any], further: bool) -> Remedy | None:
    """The article's 2e-4 when lr is higher; half the current lr only when `further`."""
    lr = config.get("lr")
    if lr is None or lr > ARTICLE_LR:
        return Remedy(
            "Lower the learning rate to 2e-4 (the article's value; 0.2 fails)", "--lr 2e-4"
        )
    if further:
        return Remedy(
            f"Lower the learning rate further, to {lr / 2:g} (it is {lr:g})", f"--lr {lr / 2:g}"
        )
    return None


def _beta1(config: Mapping[str, Any]) -> Remedy | None:
    if config.get("beta1") == ARTICLE_BETA1:
        return None
    return Remedy(
        "Set Adam's beta1 to 0.5 (the article's value; the default 0.9 fails)", "--beta1 0.5"
    )


def _latent(config: Mapping[str, Any]) -> Remedy | None:
    dim = config.get("latent_dim")
    if dim is not None and dim >= ARTICLE_LATENT_DIM:
        return None
    return Remedy(
        "Use a larger latent space: 128 dimensions (the article's; 2 and 1 collapse)",
        "--latent-dim 128",
    )


def _d_steps(config: Mapping[str, Any], fewer: bool) -> Remedy | None:
    steps = int(config.get("d_steps") or 1)
    if fewer:
        if steps <= 1:
            return None
        return Remedy("Give the discriminator fewer steps per generator step", "--d-steps 1")
    return Remedy(
        "Give the discriminator more steps per generator step, so it punishes collapse",
        f"--d-steps {steps + 1}",
    )


def _article_deviations(config: Mapping[str, Any]) -> list[Remedy | None]:
    """The article's values the config departs from: the likeliest causes, so tried first."""
    out: list[Remedy | None] = []
    if config.get("lr") is not None and config["lr"] > ARTICLE_LR:
        out.append(_lower_lr(config, further=False))
    if config.get("beta1") is not None and config["beta1"] != ARTICLE_BETA1:
        out.append(_beta1(config))
    return out


def remedies_for(
    kind: str, tags: Iterable[str] = (), config: Mapping[str, Any] | None = None
) -> list[Remedy]:
    """Remedies for a verdict kind, ordered by the evidence (`tags`) and the run's config."""
    cfg: Mapping[str, Any] = config or {}
    tags = set(tags)
    candidates: list[Remedy | None] = []
    if kind == "divergence":
        candidates = [
            _lower_lr(cfg, further=True),
            _beta1(cfg),
            _stabilize("spectral-norm", cfg),
            _wgan_gp(cfg),
        ]
    elif kind == "convergence_failure":
        if "high_lr" in tags:
            candidates.append(_lower_lr(cfg, further=True))
        candidates += _article_deviations(cfg)
        if tags & {"d_wins", "zero_losses", "high_lr"}:
            candidates += [
                _d_steps(cfg, fewer=True),
                _stabilize("ttur", cfg),
                _stabilize("label-smoothing", cfg),
                _stabilize("instance-noise", cfg),
                _stabilize("spectral-norm", cfg),
            ]
        candidates += [
            _beta1(cfg),
            _stabilize("feature-matching", cfg),
            _wgan_gp(cfg),
            _stabilize("spectral-norm", cfg),
        ]
    elif kind == "mode_collapse":
        dim = cfg.get("latent_dim")
        if dim is not None and dim < SMALL_LATENT_DIM:
            candidates.append(_latent(cfg))
        candidates += _article_deviations(cfg)
        candidates += [
            _stabilize("minibatch-discrimination", cfg),
            _stabilize("pacgan", cfg),
            _stabilize("feature-matching", cfg),
            _stabilize("historical-averaging", cfg),
            _wgan_gp(cfg),
            _d_steps(cfg, fewer=False),
            _latent(cfg),
        ]
    return _unique(candidates)[:MAX_REMEDIES]


def _unique(candidates: Iterable[Remedy | None]) -> list[Remedy]:
    """Drop the Nones and any remedy whose flag already appeared (first mention wins)."""
    seen: set[str] = set()
    out: list[Remedy] = []
    for remedy in candidates:
        if remedy is None or remedy.flag in seen:
            continue
        seen.add(remedy.flag)
        out.append(remedy)
    return out
