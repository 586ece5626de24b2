"""Remedies: what to try for a verdict, each naming the ganwatch flag that applies it.

The article's fixes come first when the run's config deviates from the article's stable
values (lr <= 2e-4, beta1 = 0.5, latent dimension 128), because that deviation is then the
likeliest cause. Then come the field's usual fixes for the failure at hand, as `ganwatch
train` flags: other losses (`--loss hinge`, `--loss lsgan`, `--loss wgan-gp`) and
stabilisers (`--stabilize pacgan,...`). A loss or stabiliser the run already uses is never
suggested again; see docs/diagnosis.md for the table.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ganwatch.config import ConfigError, parse_stabilizers
from ganwatch.diagnose.verdict import Remedy

ARTICLE_LR = 2e-4
ARTICLE_BETA1 = 0.5
ARTICLE_LATENT_DIM = 128
SMALL_LATENT_DIM = 16  # below this, the article's runs collapse (latent 2 and 1)
MAX_REMEDIES = 5  # a short list gets read; the first entries are the likeliest fixes
DEFAULT_LOSS = "bce"  # TrainConfig.loss's default: a config without "loss" trains with it

# Flags `ganwatch train` accepts (every flag a remedy names).
IMPLEMENTED_FLAGS = ("--lr", "--beta1", "--latent-dim", "--d-steps", "--loss", "--stabilize")

STABILIZERS: dict[str, str] = {
    "feature-matching": "Train G to match D's intermediate features (feature matching)",
    "historical-averaging": "Penalise parameters far from their running average "
    "(historical averaging)",
    "ttur": "Use two time-scale updates: a faster discriminator learning rate (TTUR)",
    "spectral-norm": "Constrain D's Lipschitz constant with spectral normalisation",
    "minibatch-discrimination": "Let D compare samples within a batch (minibatch discrimination)",
    "pacgan": "Let D judge packs of samples together (PacGAN)",
    "unrolled": "Let G see how D would answer a few steps ahead (unrolled GAN)",
    "instance-noise": "Add decaying noise to D's inputs (instance noise)",
    "label-smoothing": "Smooth D's real labels to 0.9 (one-sided label smoothing)",
}

LOSS_REMEDIES: dict[str, str] = {
    "wgan-gp": "Switch to the Wasserstein loss with gradient penalty (WGAN-GP)",
    "hinge": "Switch to the hinge loss: D stops pushing on samples it already separates",
    "lsgan": "Switch to the least-squares loss (LSGAN): G's gradient does not vanish when D wins",
}

# Losses with a real label that one-sided label smoothing can lower (LossSpec.smoothable in
# ganwatch.losses; a test keeps the two in step). Diagnosis does not import torch for it.
SMOOTHABLE_LOSSES = ("bce", "minimax", "lsgan", "dragan")


def flag_available(flag: str) -> bool:
    """Whether `ganwatch train` accepts this remedy's flag today."""
    return flag.split(" ")[0] in IMPLEMENTED_FLAGS


def _active_stabilizers(config: Mapping[str, Any]) -> set[str]:
    """The stabilisers a run uses: config "stabilize" as `ganwatch train` takes it
    ("pacgan:4,ema"), or a list of such items (a user's own config)."""
    value = config.get("stabilize") or ""
    items = [value] if isinstance(value, str) else [str(v) for v in value]
    text = ",".join(items)
    try:
        return set(parse_stabilizers(text))
    except ConfigError:  # a name ganwatch does not know: still never suggest what is there
        return {item.partition(":")[0].strip() for item in text.split(",") if item.strip()}


def _loss(config: Mapping[str, Any]) -> str:
    return str(config.get("loss") or DEFAULT_LOSS)


def _stabilize(name: str, config: Mapping[str, Any]) -> Remedy | None:
    if name in _active_stabilizers(config):
        return None
    if name == "label-smoothing" and _loss(config) not in SMOOTHABLE_LOSSES:
        return None  # no real label to smooth
    return Remedy(STABILIZERS[name], f"--stabilize {name}")


def _switch_loss(name: str, config: Mapping[str, Any]) -> Remedy | None:
    """Another loss; None when the run already trains with it."""
    if _loss(config) == name:
        return None
    return Remedy(LOSS_REMEDIES[name], f"--loss {name}")


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
            _switch_loss("wgan-gp", cfg),
        ]
    elif kind == "convergence_failure":
        if "high_lr" in tags:
            candidates.append(_lower_lr(cfg, further=True))
        candidates += _article_deviations(cfg)
        if tags & {"d_wins", "zero_losses", "high_lr"}:
            # D wins: weaken or regularise it, or use a loss whose G gradient survives.
            candidates += [
                _d_steps(cfg, fewer=True),
                _stabilize("label-smoothing", cfg),
                _stabilize("instance-noise", cfg),
                _stabilize("spectral-norm", cfg),
                _stabilize("ttur", cfg),
                _switch_loss("hinge", cfg),
                _switch_loss("lsgan", cfg),
            ]
        # Samples far from the data (low precision, FID stuck, off the modes).
        candidates += [
            _beta1(cfg),
            _stabilize("spectral-norm", cfg),
            _stabilize("feature-matching", cfg),
            _switch_loss("wgan-gp", cfg),
            _stabilize("ttur", cfg),
            _switch_loss("lsgan", cfg),
        ]
    elif kind == "mode_collapse":
        dim = cfg.get("latent_dim")
        if dim is not None and dim < SMALL_LATENT_DIM:
            candidates.append(_latent(cfg))
        candidates += _article_deviations(cfg)
        # Let D see several samples at once, or G see D's answer ahead, or change the loss.
        candidates += [
            _stabilize("minibatch-discrimination", cfg),
            _stabilize("pacgan", cfg),
            _stabilize("unrolled", cfg),
            _switch_loss("wgan-gp", cfg),
            _stabilize("feature-matching", cfg),
            _stabilize("historical-averaging", cfg),
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
