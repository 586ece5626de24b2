"""Remedies: what to try for a verdict, each naming the ganwatch flag that applies it.

The article's fixes come first when the run's config deviates from the article's stable
values (lr <= 2e-4, or 5e-4 for the MLP pair; beta1 = 0.5, latent dimension 128), because
that deviation is then the likeliest cause. Then come the field's usual fixes for the
failure at hand, as `ganwatch train` flags: other losses (`--loss hinge`, `--loss lsgan`,
`--loss wgan-gp`) and stabilisers (`--stabilize pacgan,...`). A loss or stabiliser the run
already uses is never suggested again; see docs/diagnosis.md for the table.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ganwatch.catalog import LOSSES, MODELS, STABILIZERS
from ganwatch.catalog.datasets import is_toy
from ganwatch.catalog.losses import DEFAULT_LOSS
from ganwatch.config import ARTICLE_LR, QUICK_LR, ConfigError, parse_stabilizers
from ganwatch.diagnose.verdict import Remedy

ARTICLE_BETA1 = 0.5
ARTICLE_LATENT_DIM = 128
SMALL_LATENT_DIM = 16  # below this, the article's runs collapse (latent 2 and 1)
MAX_REMEDIES = 5  # a short list gets read; the first entries are the likeliest fixes

# Flags `ganwatch train` accepts (every flag a remedy names).
IMPLEMENTED_FLAGS = ("--lr", "--beta1", "--latent-dim", "--d-steps", "--loss", "--stabilize")


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


def _model(config: Mapping[str, Any]) -> str:
    model = str(config.get("model") or "auto")
    return model if model in MODELS else "auto"


def _stabilize(name: str, config: Mapping[str, Any]) -> Remedy | None:
    if name in _active_stabilizers(config):
        return None
    spec, loss = STABILIZERS[name], LOSSES.get(_loss(config))
    # Never a combination the run could not train with (e.g. a loss with nothing to smooth);
    # a loss ganwatch does not know is not assumed to have a real label.
    if spec.problem_with(loss, MODELS[_model(config)]) if loss else spec.needs_real_label:
        return None
    return Remedy(spec.remedy or spec.summary, f"--stabilize {name}")


def _switch_loss(name: str, config: Mapping[str, Any]) -> Remedy | None:
    """Another loss; None when the run already trains with it."""
    if _loss(config) == name:
        return None
    return Remedy(LOSSES[name].remedy or LOSSES[name].summary, f"--loss {name}")


def good_lr(config: Mapping[str, Any]) -> tuple[float, str]:
    """The learning rate known to train this run's model well, and whose value it is: the
    article's 2e-4 for its convolutional pair, quick scale's 5e-4 for the MLP pair (with
    which 2e-4 is still far from the data after quick scale's 20 epochs)."""
    if config.get("model") == "mlp":
        return QUICK_LR, "quick scale's value for the MLP"
    return ARTICLE_LR, "the article's value"


def _lower_lr(config: Mapping[str, Any], further: bool) -> Remedy | None:
    """The known-good lr when lr is higher; half the current lr only when `further`."""
    lr = config.get("lr")
    good, whose = good_lr(config)
    if lr is None or lr > good:
        text = f"{good:.0e}".replace("e-0", "e-")  # 2e-4, as the article writes it
        now = f"; it is {lr:g}" if lr is not None else ""
        return Remedy(f"Lower the learning rate to {text} ({whose}{now})", f"--lr {text}")
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
    """The article's values the config departs from: the likeliest causes, so tried first.

    A latent space below `SMALL_LATENT_DIM` counts for any failure on images, not only a
    collapse: its noisy few-digit samples are both failures at once (the verdict corpus's
    latent-1 and latent-2 runs are called either, and its judge cannot tell which dominates),
    and the article's fix is the latent size whichever is named. Points of a 2-D mixture are
    drawn from a latent of 2 as a rule, so there it is a deviation from nothing."""
    out: list[Remedy | None] = []
    if config.get("lr") is not None and config["lr"] > good_lr(config)[0]:
        out.append(_lower_lr(config, further=False))
    if config.get("beta1") is not None and config["beta1"] != ARTICLE_BETA1:
        out.append(_beta1(config))
    dim = config.get("latent_dim")
    if dim is not None and dim < SMALL_LATENT_DIM and not is_toy(config.get("dataset")):
        out.append(_latent(config))
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
