"""A sweep file: its grid, validated as a whole, and the cells (one run each) it expands to.

Everything is checked before anything trains, because a sweep is long: a bad value in its
twentieth cell should fail in the first second, not after nineteen runs. Each cell's config
goes through :func:`ganwatch.config.build_config`, the very function ``ganwatch train``
uses, so a sweep accepts exactly what ``train --config`` accepts.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ganwatch.catalog.verdicts import FAILURE_KINDS
from ganwatch.config import FIELD_NAMES, ConfigError, TrainConfig, build_config, stop_verdicts
from ganwatch.diagnose.stopping import STOP_RULE_EXPECTS, StopRule, stop_rule_problems

SWEEP_KEYS = ("name", "base", "grid", "stop", "resources")
STOP_KEYS = ("verdicts", "min_epochs", "min_confidence")  # not "on": YAML reads a bare on as true
RESOURCE_KEYS = ("cpu", "gpu")
#: What a Ray trial reserves unless the sweep file says otherwise.
DEFAULT_RESOURCES = {"cpu": 1.0, "gpu": 0.0}


@dataclass(frozen=True)
class Cell:
    """One point of the grid: one run, found again by its name when the sweep is rerun."""

    index: int  # 1-based position in grid order
    name: str  # "<sweep name>/key=value,key=value"
    values: dict[str, Any]  # grid key -> the value as the config holds it (coerced)
    overrides: dict[str, Any]  # base plus this cell's grid values, as written in the file
    config: TrainConfig


@dataclass(frozen=True)
class Sweep:
    """A parsed, validated sweep file."""

    path: Path
    name: str
    base: dict[str, Any]
    grid: dict[str, list[Any]]
    cells: list[Cell]
    stop: StopRule | None = None
    resources: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_RESOURCES))

    @property
    def keys(self) -> list[str]:
        """The grid's config keys in file order (normalised to underscores)."""
        return list(self.grid)


def format_value(value: Any) -> str:
    """How a grid value appears in run names and tables: stable, short, and '' as ``none``."""
    if value is None or value == "":
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def cell_name(sweep_name: str, values: Mapping[str, Any]) -> str:
    """``ring-remedies/loss=bce,seed=3``: the run name that ties a run to its cell."""
    return f"{sweep_name}/" + ",".join(f"{k}={format_value(v)}" for k, v in values.items())


def _fail(path: Path, where: str, message: str) -> ConfigError:
    return ConfigError(f"{path}: {where}: {message}")


def _read_mapping(path: Path) -> dict[Any, Any]:
    """The file's top-level mapping; unreadable files and bad YAML name the file."""
    import yaml

    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the sweep file: {exc.strerror}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: expected a mapping with keys {', '.join(SWEEP_KEYS)}, "
            f"got {type(data).__name__}"
        )
    unknown = [str(key) for key in data if str(key) not in SWEEP_KEYS]
    if unknown:
        raise ConfigError(
            f"{path}: unknown top-level key {unknown[0]!r}; expected {', '.join(SWEEP_KEYS)}"
        )
    return data


def _config_keys(path: Path, section: str, data: Any) -> dict[str, Any]:
    """A mapping of config keys with '-' or '_' alike (as ``--config`` reads them), checked."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise _fail(path, section, f"expected a mapping of config keys, got {type(data).__name__}")
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = str(key).strip().replace("-", "_")
        if name not in FIELD_NAMES:
            raise _fail(
                path,
                f"{section}.{key}",
                f"unknown config key; valid keys: {', '.join(FIELD_NAMES)}",
            )
        if name in out:
            raise _fail(path, f"{section}.{key}", f"the key {name!r} is given twice")
        out[name] = value
    return out


def _check_name(path: Path, name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise _fail(
            path, "name", f"expected a non-empty string (every run's name prefix), got {name!r}"
        )
    return name.strip()


def _check_grid(path: Path, grid: dict[str, Any], base: dict[str, Any]) -> dict[str, list[Any]]:
    """Every grid key maps to a non-empty list and is not also in ``base``."""
    if not grid:
        raise _fail(path, "grid", "expected a mapping of config keys to lists of values")
    for key, values in grid.items():
        if not isinstance(values, list):
            raise _fail(path, f"grid.{key}", f"expected a list of values, got {values!r}")
        if not values:
            raise _fail(path, f"grid.{key}", "expected a non-empty list of values, got []")
        if key in base:
            raise _fail(path, f"grid.{key}", "is also in base; give it in one place only")
    return grid


def _build(path: Path, where: str, overrides: dict[str, Any]) -> TrainConfig:
    try:
        return build_config(overrides)
    except ConfigError as exc:
        raise _fail(path, where, str(exc)) from exc


def _cells(path: Path, name: str, base: dict[str, Any], grid: dict[str, list[Any]]) -> list[Cell]:
    """The cartesian product in grid order (the last key varies fastest), each cell built.

    Each grid value is first built alone with the base, so an error names the key and value
    that caused it rather than a whole cell.
    """
    _build(path, "base", base)
    for key, values in grid.items():
        for value in values:
            _build(path, f"grid.{key} = {value!r}", {**base, key: value})
    cells: list[Cell] = []
    seen: dict[str, dict[str, Any]] = {}
    for index, combo in enumerate(itertools.product(*grid.values()), start=1):
        raw = dict(zip(grid, combo, strict=True))
        overrides = {**base, **raw}
        config = _build(path, f"grid cell {raw}", overrides)
        values = {key: getattr(config, key) for key in grid}
        run_name = cell_name(name, values)
        if run_name in seen:
            raise _fail(
                path,
                "grid",
                f"cells {seen[run_name]} and {raw} are the same config ({run_name}); "
                "remove the duplicate value",
            )
        seen[run_name] = raw
        cells.append(Cell(index, run_name, values, overrides, config))
    return cells


def _check_stop(path: Path, data: Any) -> StopRule | None:
    """``stop: {verdicts: [mode_collapse, ...], min_epochs: 2, min_confidence: 0}``; verdicts
    may be a comma list. The rule the Ray engine applies to each trial (a local sweep puts
    ``stop_on``, ``stop_confidence`` and ``stop_min_epochs`` in ``base`` instead)."""
    if data is None:
        return None
    if not isinstance(data, dict) or set(map(str, data)) - set(STOP_KEYS):
        raise _fail(path, "stop", f"expected a mapping with keys {', '.join(STOP_KEYS)}")
    named = data.get("verdicts", list(FAILURE_KINDS))
    if isinstance(named, str):
        kinds = stop_verdicts(named)
    elif isinstance(named, list):
        kinds = [str(kind).strip() for kind in named]
    else:
        kinds = []
    values = {
        "verdicts": kinds,
        "min_epochs": data.get("min_epochs", 2),
        "min_confidence": data.get("min_confidence", 0.0),
    }
    problems = stop_rule_problems(*values.values())
    if not kinds and "verdicts" not in problems:  # a stop: that names no verdict stops nothing
        problems.insert(0, "verdicts")
    if problems:
        name = problems[0]
        expected = f"expected {STOP_RULE_EXPECTS[name]}, got {data.get(name, values[name])!r}"
        raise _fail(path, f"stop.{name}", expected)
    confidence = float(values["min_confidence"])
    return StopRule(
        verdicts=tuple(kinds), min_epochs=values["min_epochs"], min_confidence=confidence
    )


def _check_resources(path: Path, data: Any) -> dict[str, float]:
    """``resources: {cpu: 1, gpu: 0}``: what each Ray trial reserves."""
    resources = dict(DEFAULT_RESOURCES)
    if data is None:
        return resources
    if not isinstance(data, dict) or set(map(str, data)) - set(RESOURCE_KEYS):
        raise _fail(path, "resources", f"expected a mapping with keys {', '.join(RESOURCE_KEYS)}")
    for key, value in data.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise _fail(path, f"resources.{key}", f"expected a number >= 0, got {value!r}")
        resources[str(key)] = float(value)
    return resources


def load_sweep(path: str | Path) -> Sweep:
    """Read and validate a sweep file; any problem is a ConfigError naming file and key."""
    path = Path(path)
    data = _read_mapping(path)
    if "name" not in data:
        raise _fail(path, "name", "missing; every sweep needs a name (its runs' name prefix)")
    name = _check_name(path, data["name"])
    base = _config_keys(path, "base", data.get("base"))
    if "grid" not in data:
        raise _fail(path, "grid", "missing; expected a mapping of config keys to lists of values")
    grid = _check_grid(path, _config_keys(path, "grid", data["grid"]), base)
    stop = _check_stop(path, data.get("stop"))
    resources = _check_resources(path, data.get("resources"))
    return Sweep(path, name, base, grid, _cells(path, name, base, grid), stop, resources)
