"""Training configuration: one dataclass, the article's presets, scales, files and overrides.

Precedence, lowest to highest: the dataclass defaults, the preset, the scale, the config file,
then command-line flags. The scale is applied to the preset's values before the file and the
flags, so ``--preset stable --scale quick --epochs 3`` trains for 3 epochs.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from ganwatch.catalog import DATASETS, LOSSES, MODELS, STABILIZERS
from ganwatch.catalog.losses import DEFAULT_LOSS

DEVICES = ("auto", "cpu", "cuda")
PRECISIONS = ("auto", "fp32", "tf32", "bf16")
SCALES = ("full", "quick")


class ConfigError(ValueError):
    """A configuration value, file or key that ganwatch cannot use; the message says which.
    ``key`` names the config key at fault, when one is."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


@dataclass
class TrainConfig:
    """Everything that determines a training run (and so is recorded with it)."""

    preset: str | None = None
    scale: str = "full"
    dataset: str = "mnist"
    data_dir: str | None = None
    train_size: int | None = None  # use only the first N training samples (None: all)
    model: str = "auto"
    latent_dim: int = 128
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    d_steps: int | None = None  # D steps per G step (the article's k); None: the loss's own
    g_steps: int = 1  # G steps after each round of D steps (Mescheder et al.'s 1:n schedules)
    loss: str = DEFAULT_LOSS  # the article's non-saturating BCE; see ganwatch.catalog.LOSSES
    stabilize: str = ""  # comma-separated stabilisers, each optionally name:value
    epochs: int = 100
    batch_size: int = 1024
    sample_size: int = 64  # fixed noise vectors for the per-epoch 8x8 grid
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"  # auto: tf32 on CUDA (PyTorch's cuDNN default), fp32 on CPU
    checkpoint_every: int = 10  # epochs between checkpoints; one is always written at the end
    metrics: bool = True  # measure against the training data after epochs (see eval_every)
    eval_every: int = 1  # epochs between metric evaluations
    ndb_every: int = 5  # evaluations between NDB evaluations (its bins are fitted once)
    stop_on: str = ""  # comma-separated verdicts that stop the run, e.g. "mode_collapse"
    stop_confidence: float = 0.0  # ... when said with at least this confidence (0: any)
    stop_min_epochs: int = 1  # ... from this epoch on (a grace period for early epochs)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# The article's experiments. Each lists only what differs from the stable run's values.
PRESETS: dict[str, dict[str, Any]] = {
    "stable": {"latent_dim": 128, "lr": 2e-4, "beta1": 0.5, "beta2": 0.999, "epochs": 100},
    "latent-2": {"latent_dim": 2, "epochs": 200},
    "latent-1": {"latent_dim": 1, "epochs": 200},
    "lr-0.2": {"lr": 0.2},
    "adam-default-betas": {"beta1": 0.9, "beta2": 0.999},
}

# What --scale quick changes, so that a preset shows the article's story on a 2-core CPU in
# minutes. The article's convolutional pair does not reach varied digits there (measured: at
# 160 to 1,024 steps its discriminator wins outright and every sample is one blank image), so
# quick scale trains a CPU-sized model instead: the MLP GAN (BatchNorm in G) on 12,800 digits,
# batch 64, 20 epochs (4,000 steps), with the article's learning rate 2e-4 raised to 5e-4
# (the MLP's reaches varied digits in that budget; presets with a learning rate of their own,
# such as lr-0.2, keep it). Latent size, betas and losses stay the preset's. The validation
# corpus trains exactly this model and budget (docs/diagnosis.md). --scale full is the
# article's model and budget.
QUICK_SCALE: dict[str, Any] = {
    "model": "mlp",
    "train_size": 12_800,
    "batch_size": 64,
    "epochs": 20,
    "checkpoint_every": 5,
}
#: The article's learning rate, and what quick scale's MLP uses in its place.
ARTICLE_LR, QUICK_LR = 2e-4, 5e-4


def apply_scale(values: dict[str, Any], scale: str) -> dict[str, Any]:
    """Return ``values`` set up for ``scale`` ("full" leaves them as the article has them)."""
    if scale == "full":
        return dict(values)
    if scale != "quick":
        raise ConfigError(f"--scale: expected one of {', '.join(SCALES)}, got {scale!r}")
    out = {**values, **QUICK_SCALE}
    if float(out.get("lr", ARTICLE_LR)) == ARTICLE_LR:
        out["lr"] = QUICK_LR
    return out


def _normalise_key(key: str) -> str:
    return key.strip().replace("-", "_")


FIELD_NAMES = tuple(f.name for f in fields(TrainConfig))


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Read a YAML (or JSON) mapping of config keys; keys may use '-' or '_'."""
    import yaml

    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"--config: cannot read {path}: {exc.strerror}") from exc
    try:
        data = yaml.safe_load(text) if path.suffix != ".json" else json.loads(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise ConfigError(f"--config: {path} is not valid YAML/JSON: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"--config: {path} must hold a mapping of keys to values, got {type(data).__name__}"
        )
    out = {}
    for key, value in data.items():
        name = _normalise_key(str(key))
        if name not in FIELD_NAMES:
            raise ConfigError(
                f"--config: {path} has unknown key {key!r}; valid keys: {', '.join(FIELD_NAMES)}"
            )
        try:
            out[name] = _coerce(name, value)
        except ConfigError as exc:
            raise ConfigError(f"--config: {path}: key {key!r}: {exc}") from None
    return out


def build_config(overrides: dict[str, Any] | None = None) -> TrainConfig:
    """Merge preset, scale and overrides (file values then flags, already merged) and validate."""
    overrides = {_normalise_key(k): v for k, v in (overrides or {}).items() if v is not None}
    unknown = sorted(set(overrides) - set(FIELD_NAMES))
    if unknown:
        raise ConfigError(f"unknown config keys {unknown}; valid keys: {', '.join(FIELD_NAMES)}")
    preset = overrides.get("preset")
    scale = overrides.get("scale", "full")
    values: dict[str, Any] = {}
    if preset is not None:
        if preset not in PRESETS:
            raise ConfigError(f"--preset: expected one of {', '.join(PRESETS)}, got {preset!r}")
        values.update(PRESETS["stable"])
        values.update(PRESETS[preset])
    values = apply_scale(values, scale)
    values.update(overrides)
    config = TrainConfig(**{k: _coerce(k, v) for k, v in values.items()})
    validate(config)
    return config


def _coerce(name: str, value: Any) -> Any:
    """Convert values from YAML or key=value text to the field's type, naming the key on error."""
    default = getattr(TrainConfig, name, None)
    kind = type(default)
    if name in ("train_size", "d_steps", "preset", "data_dir"):
        kind = int if name in ("train_size", "d_steps") else str
    if value is None:
        return None
    try:
        if kind is bool:
            return _to_bool(value)
        if kind in (int, float) and isinstance(value, bool):
            raise ValueError  # YAML's `true` is no number a person meant
        if kind is int:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(value)
        if kind is float:
            return float(value)
        return str(value) if kind is str else value
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"--{name.replace('_', '-')}: expected {kind.__name__}, got {value!r}"
        ) from exc


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "on", "1"):
        return True
    if text in ("false", "no", "off", "0"):
        return False
    raise ValueError(value)


def validate(config: TrainConfig) -> None:
    """Reject values that would fail later, with the flag name and what was expected.

    This is the one check of a whole recipe (values, and the combination of dataset, model,
    loss and stabilisers) that ``train``, ``sweep`` and ``reproduce`` make before a run
    exists, so a bad combination never leaves a run behind.
    """

    def check(ok: bool, name: str, expected: str) -> None:
        if not ok:
            value = getattr(config, name)
            raise ConfigError(
                f"--{name.replace('_', '-')}: expected {expected}, got {value!r}", key=name
            )

    for name, choices in (
        ("scale", SCALES),
        ("dataset", tuple(DATASETS)),
        ("model", tuple(MODELS)),
        ("device", DEVICES),
        ("precision", PRECISIONS),
        ("loss", tuple(LOSSES)),
    ):
        check(getattr(config, name) in choices, name, f"one of {', '.join(choices)}")
    check(config.d_steps is None or config.d_steps >= 1, "d_steps", "an integer >= 1")
    check(config.g_steps >= 1, "g_steps", "an integer >= 1")
    for name in (
        "latent_dim",
        "epochs",
        "batch_size",
        "sample_size",
        "checkpoint_every",
        "eval_every",
        "ndb_every",
    ):
        check(getattr(config, name) >= 1, name, "an integer >= 1")
    check(config.train_size is None or config.train_size >= 1, "train_size", "an integer >= 1")
    check(0 < config.lr < math.inf, "lr", "a learning rate > 0")
    check(0 <= config.beta1 < 1, "beta1", "a value in [0, 1)")
    check(0 <= config.beta2 < 1, "beta2", "a value in [0, 1)")
    check(config.seed >= 0, "seed", "an integer >= 0")
    from ganwatch.diagnose.stopping import STOP_RULE_EXPECTS, STOP_RULE_KEYS, stop_rule_problems

    stop = (stop_verdicts(config.stop_on), config.stop_min_epochs, config.stop_confidence)
    for name in stop_rule_problems(*stop)[:1]:
        check(False, STOP_RULE_KEYS[name], STOP_RULE_EXPECTS[name])
    check_combination(config)


def stop_verdicts(text: str) -> list[str]:
    """``"mode_collapse, divergence"`` -> the verdict kinds named (not checked)."""
    return [kind.strip() for kind in str(text or "").split(",") if kind.strip()]


def check_combination(config: TrainConfig) -> None:
    """Refuse a dataset, model, loss and stabilisers that cannot train together, with why."""
    dataset, model, loss = DATASETS[config.dataset], MODELS[config.model], LOSSES[config.loss]
    if model.data is not None and model.data != dataset.kind:
        raise ConfigError(
            f"--model {model.name}: needs {model.data} data, but --dataset {dataset.name} "
            f"is {dataset.kind}"
        )
    if model.conditional and loss.output == "energy":
        raise ConfigError(f"--model {model.name}: cannot be combined with --loss {loss.name}")
    for name in stabilizer_settings(config.stabilize):
        problem = STABILIZERS[name].problem_with(loss, model)
        if problem:
            raise ConfigError(f"--stabilize {name}: {problem}")


def parse_stabilizers(text: str) -> dict[str, float | None]:
    """``"pacgan:4,ema"`` -> ``{"pacgan": 4.0, "ema": None}``; unknown names or values are errors.

    The optional value after ``:`` is the stabiliser's one knob (pack size, decay, noise...);
    None leaves its default (``ganwatch.catalog.STABILIZERS``).
    """
    out: dict[str, float | None] = {}
    for item in (part.strip() for part in str(text or "").split(",")):
        if not item:
            continue
        name, _, value = item.partition(":")
        name = name.strip()
        if name not in STABILIZERS:
            raise ConfigError(
                f"--stabilize: unknown stabiliser {name!r}; expected a comma-separated list of "
                f"{', '.join(STABILIZERS)} (each optionally name:value)"
            )
        if name in out:
            raise ConfigError(f"--stabilize: {name!r} is given twice")
        try:
            out[name] = float(value) if value.strip() else None
        except ValueError as exc:
            raise ConfigError(
                f"--stabilize: {name}:{value} needs a number after ':', got {value!r}"
            ) from exc
    return out


def stabilizer_settings(text: str) -> dict[str, float]:
    """``"pacgan:4,ema"`` -> ``{"pacgan": 4.0, "ema": 0.999}``: defaults filled in, every knob
    checked against its range."""
    out: dict[str, float] = {}
    for name, value in parse_stabilizers(text).items():
        knob = STABILIZERS[name].knob
        if knob is None:
            out[name] = 0.0 if value is None else value
            continue
        value = knob.default if value is None else value
        problem = knob.problem(value)
        if problem:
            raise ConfigError(f"--stabilize: {name} {problem}")
        out[name] = value
    return out
