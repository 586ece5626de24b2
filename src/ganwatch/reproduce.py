"""``ganwatch reproduce``: the article's five experiments, trained and diagnosed, as a report.

Each experiment is one of the article's presets trained with ganwatch's trainer (so with the
Monitor's metrics and verdicts), exported with ``export_run`` (CSV, the three-loss chart, the
grid timeline), and written up beside what the article says of it. The report is markdown
with PNGs next to it, so it reads on GitHub or any viewer with no server.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ganwatch.catalog.verdicts import also_found, held_note
from ganwatch.config import FIELD_NAMES, PRESETS, build_config
from ganwatch.export import export_run
from ganwatch.store import RunStore
from ganwatch.training import train

# What the article reports for each experiment, and the verdict that agrees with it.
ARTICLE_ACCOUNT: dict[str, tuple[str, str]] = {
    "stable": ("trains well: varied, recognisable digits", "healthy"),
    "latent-2": ("mode collapse: the samples fall onto a few digits", "mode_collapse"),
    "latent-1": ("mode collapse: the samples fall onto a few digits", "mode_collapse"),
    "lr-0.2": ("convergence failure: D's real loss near 0, no digits", "convergence_failure"),
    "adam-default-betas": ("convergence failure: no digits", "convergence_failure"),
}
SUMMARY_METRICS = (
    "metric/classes_covered",
    "metric/ndb_k",
    "metric/fid",
    "metric/precision",
    "metric/recall",
)


@dataclass
class Experiment:
    """One trained experiment: its preset, run id and final verdict (a dict, or None)."""

    preset: str
    run_id: int
    status: str
    verdict: dict | None
    last: dict[str, Any]


@dataclass
class RemedyTrial:
    """An experiment trained again with the first remedy its diagnosis named."""

    preset: str
    flag: str
    before: Experiment
    after: Experiment


def remedy_overrides(flag: str, config: dict[str, Any]) -> dict[str, Any]:
    """The config change a remedy's flag makes: ``"--lr 2e-4"`` -> ``{"lr": "2e-4"}``.

    ``--stabilize NAME`` adds NAME to the stabilisers the run already has, as a user adding
    the flag to the same command would expect.
    """
    name, _, value = flag.partition(" ")
    key = name.removeprefix("--").replace("-", "_")
    if key not in FIELD_NAMES or not value:
        raise ValueError(f"remedy flag {flag!r} does not name a config key and a value")
    if key == "stabilize" and config.get("stabilize"):
        value = f"{config['stabilize']},{value}"
    return {key: value}


def first_remedy_flag(verdict: dict | None) -> str | None:
    """The flag of the verdict's first remedy that has one (None for healthy runs)."""
    if not verdict or verdict.get("kind") in ("healthy", "warming_up"):
        return None
    return next((r["flag"] for r in verdict.get("remedies", []) if r.get("flag")), None)


def reproduce(
    out_dir: str | Path,
    *,
    scale: str = "quick",
    store: RunStore,
    presets: tuple[str, ...] = tuple(PRESETS),
    overrides: dict | None = None,
    remedy: bool = False,
    quiet: bool = False,
    log: Callable[[str], None] = print,
) -> Path:
    """Train each preset at ``scale`` into ``store`` and write ``<out_dir>/report.md``.

    ``overrides`` (config keys) apply to every experiment, e.g. a data folder or device.
    With ``remedy``, every experiment whose verdict is a failure is trained once more with the
    first remedy its diagnosis names, and the report shows the verdict before and after.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    done, trials = [], []
    for preset in presets:
        config = build_config({**(overrides or {}), "preset": preset, "scale": scale})
        log(f"reproduce: {preset} ({scale} scale, {config.epochs} epochs)")
        result = train(config, store, name=f"article-{preset}", quiet=quiet)
        experiment = _write_experiment(store, result.run_id, preset, result.status, out)
        done.append(experiment)
        flag = first_remedy_flag(experiment.verdict) if remedy else None
        if flag is None:
            continue
        fixed = build_config(
            {
                **(overrides or {}),
                "preset": preset,
                "scale": scale,
                **remedy_overrides(flag, config.to_dict()),
            }
        )
        log(f"reproduce: {preset} again with the diagnosis's remedy {flag}")
        again = train(fixed, store, name=f"article-{preset} {flag}", quiet=quiet)
        after = _write_experiment(store, again.run_id, f"{preset}-remedied", again.status, out)
        trials.append(RemedyTrial(preset, flag, experiment, after))
    report = out / "report.md"
    command = _command(scale, presets, remedy)
    report.write_text(_report(done, scale, command) + _remedy_report(trials, command))
    return report


def _command(scale: str, presets: tuple[str, ...], remedy: bool) -> str:
    """The command that regenerates the report, as the report should quote it."""
    command = f"ganwatch reproduce --scale {scale}"
    if tuple(presets) != tuple(PRESETS):
        command += f" --presets {','.join(presets)}"
    return command + (" --remedy" if remedy else "")


def _remedy_report(trials: list[RemedyTrial], command: str) -> str:
    """The before/after table of ``--remedy``; empty when no remedy was tried."""
    if not trials:
        return ""
    lines = [
        "",
        "## The diagnosis's first remedy, applied",
        "",
        f"Command: `{command}`. Each failing experiment is "
        "trained again, same seed, with the flag its verdict names first.",
        "",
        "| experiment | verdict before | remedy | verdict after | "
        + " | ".join(f"{m.split('/')[1]} before -> after" for m in SUMMARY_METRICS)
        + " |",
        "|---|---|---|---|" + "---|" * len(SUMMARY_METRICS),
    ]
    for t in trials:
        kinds = [e.verdict["kind"] if e.verdict else "none" for e in (t.before, t.after)]
        cells = [
            f"{_fmt(t.before.last.get(m))} -> {_fmt(t.after.last.get(m))}" for m in SUMMARY_METRICS
        ]
        lines.append(
            f"| {t.preset} | {kinds[0]} | `{t.flag}` | {kinds[1]} | " + " | ".join(cells) + " |"
        )
    return "\n".join(lines) + "\n"


def _write_experiment(
    store: RunStore, run_id: int, preset: str, status: str, out: Path
) -> Experiment:
    folder = out / preset
    export_run(store, run_id, folder)
    grids = store.images(run_id, "grid")
    if grids:
        shutil.copyfile(grids[0][2], folder / "grid_first.png")
        shutil.copyfile(grids[-1][2], folder / "grid_last.png")
    ndb = store.images(run_id, "ndb")
    if ndb:
        shutil.copyfile(ndb[-1][2], folder / "ndb.png")
    verdicts = store.events(run_id, "verdict")
    return Experiment(
        preset,
        run_id,
        status,
        verdicts[-1]["payload"] if verdicts else None,
        _last_measured(store.epoch_metrics(run_id)),
    )


def _last_measured(epochs: list[dict]) -> dict[str, Any]:
    """Each key's latest measured value (NDB runs every few epochs, so the last epoch may
    lack it)."""
    last: dict[str, Any] = {}
    for row in epochs:
        last.update({k: v for k, v in row.items() if not (isinstance(v, float) and v != v)})
    return last


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def agreement(expected: str, verdict: dict | None) -> str:
    """Whether a final verdict agrees with the article: "yes"; "both" when it found the
    article's failure too but reports another (samples far from the data outrank few
    modes: noisy shapes of few digits are both failures, the article's kept as secondary
    evidence); else "no"."""
    if verdict is None:
        return "no"
    if verdict["kind"] == expected:
        return "yes"
    return "both" if expected in also_found(verdict.get("evidence")) else "no"


def _report(experiments: list[Experiment], scale: str, command: str) -> str:
    lines = [
        f"# The article's experiments, reproduced ({scale} scale)",
        "",
        "Each row: the article's account, ganwatch's final verdict and the latest measured "
        'metrics (agrees "both": ganwatch found the article\'s failure too, and reports '
        "another that outranks it, the article's kept as secondary evidence). "
        f"Command: `{command}`."
        + (
            " Quick scale trains the CPU-sized MLP pair on 12,800 digits for 20 epochs in place"
            " of the article's convolutional pair (README, Scales)."
            if scale == "quick"
            else ""
        ),
        "",
        "| experiment | the article | ganwatch verdict | agrees | "
        + " | ".join(m.split("/")[1] for m in SUMMARY_METRICS)
        + " |",
        "|---|---|---|---|" + "---|" * len(SUMMARY_METRICS),
    ]
    for e in experiments:
        account, expected = ARTICLE_ACCOUNT[e.preset]
        kind = e.verdict["kind"] if e.verdict else "none"
        agrees = agreement(expected, e.verdict)
        cells = [_fmt(e.last.get(m)) for m in SUMMARY_METRICS]
        lines.append(f"| {e.preset} | {account} | {kind} | {agrees} | " + " | ".join(cells) + " |")
    for e in experiments:
        lines += [
            "",
            f"## {e.preset} (run {e.run_id}, {e.status})",
            "",
            f"The article: {ARTICLE_ACCOUNT[e.preset][0]}.",
            "",
            f"![losses]({e.preset}/losses.png)",
            "",
            "| first epoch | last epoch | NDB bins (last evaluation) |",
            "|---|---|---|",
            f"| ![first]({e.preset}/grid_first.png) | ![last]({e.preset}/grid_last.png) "
            f"| ![ndb]({e.preset}/ndb.png) |",
            "",
        ]
        if e.verdict:
            v = e.verdict
            held = f"; {held_note(v)}" if held_note(v) else ""
            lines.append(
                f"Verdict: **{v['kind']}** (confidence {v['confidence']:.2f}, "
                f"since step {v.get('since_step')}{held})."
            )
            lines += [
                f"- {x['metric']} = {x['value']:.4g} {x['op']} {x['threshold']:.4g}: {x['note']}"
                for x in v.get("evidence", [])
            ]
            lines += [
                f"- try: {r['text']}" + (f" (`{r['flag']}`)" if r.get("flag") else "")
                for r in v.get("remedies", [])
            ]
    return "\n".join(lines) + "\n"
