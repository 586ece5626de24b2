"""Labelled validation of ganwatch's diagnosis on the 2-D toy data (ring, grid), on the CPU.

Why: the detectors' thresholds were calibrated on constructed cases only. Here real runs of
ganwatch's own trainer (`ganwatch.training.train`, the MLP pair, BCE), configured to collapse or
not, are labelled after every epoch with a ground truth the detectors never see, and the
verdicts the Monitor reported are compared with it: a confusion matrix per evaluation and per
run (at the end), and the delay from the onset of a collapse to its first verdict.

The ground truth is measured on the toy data's known modes (`ganwatch.metrics.toy`), but not
by the detectors' rule, or the check would be circular:

- it draws its own TRUTH_SAMPLES = 5,000 samples from the generator after each epoch, with
  noise the Monitor never uses (the detectors see 512 samples from a fixed seed), through
  the same `toy_mode_metrics` (a sample is on a mode within 3 sigma of it);
- it counts a mode as *held* when it receives at least a quarter of its fair share (1/K) of
  the on-mode samples, instead of the detectors' "at least one sample";
- collapsed: at least 25% of the samples are on modes and fewer than half the modes are held
  (the detectors: fewer than 75% captured while at least 50% are on modes); off_modes: fewer
  than 25% on modes; covered: every mode held; partial: between half and all of them, a
  state where neither "collapse" nor "healthy" is wrong, so it is not scored.

Measuring the truth never touches the training's random numbers (its noise comes from its
own torch.Generator), so the runs are exactly the runs `ganwatch train` would make.

usage: OMP_NUM_THREADS=1 .venv/bin/python scripts/validate_diagnosis.py [--write-docs]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganwatch.config import build_config
from ganwatch.data.toy import mode_centres, mode_sigma
from ganwatch.diagnose import Verdict
from ganwatch.metrics.toy import toy_mode_metrics
from ganwatch.monitor import Monitor
from ganwatch.store import RunStore

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "diagnosis.md"
PNG = ROOT / "docs" / "validation-toy.png"
START, END = "<!-- validation:start -->", "<!-- validation:end -->"

TRUTH_SAMPLES = 5000
TRUTH_SEED = 20261126  # any seed but the Monitor's (12345): fresh samples
ON_MODES_MIN = 0.25  # below: the samples are mostly off the modes (not converged)
HELD_SHARE = 0.25  # a mode is held with >= this x its fair share of the on-mode samples
COLLAPSED_BELOW = 0.5  # collapsed: fewer than this fraction of the modes held

TRUTH_LABELS = ("collapsed", "partial", "covered", "off_modes")
# The verdict each scored truth label should get; "partial" has none and is not scored.
EXPECTED = {
    "collapsed": "mode_collapse",
    "covered": "healthy",
    "off_modes": "convergence_failure",
}
VERDICTS = ("mode_collapse", "healthy", "convergence_failure", "warming_up", "divergence")

# What every run shares: the toy MLP pair, BCE, 20,000 training points, batch 128.
COMMON: dict[str, Any] = {"train_size": 20_000, "batch_size": 128, "device": "cpu"}


@dataclass(frozen=True)
class Case:
    """A configuration and what it was chosen to do (the truth labels decide what it did)."""

    name: str
    dataset: str
    intent: str
    overrides: Mapping[str, Any]


# Chosen with short CPU experiments first (see docs/diagnosis.md, Validation).
CASES = (
    Case("ring-z2", "ring", "not collapse", {"latent_dim": 2, "lr": 2e-4, "epochs": 70}),
    Case("ring-z1", "ring", "collapse", {"latent_dim": 1, "lr": 1e-3, "epochs": 70}),
    Case("grid-z2", "grid", "not collapse", {"latent_dim": 2, "lr": 2e-4, "epochs": 60}),
    Case("grid-z16", "grid", "collapse", {"latent_dim": 16, "lr": 1e-3, "epochs": 60}),
)


@dataclass(frozen=True)
class Truth:
    """One epoch's ground truth: its label and the numbers behind it."""

    label: str
    on_modes: float
    held: int
    modes: int


def truth_label(histogram: Sequence[int], n_samples: int) -> Truth:
    """The ground truth from the per-mode counts of on-mode samples (see the module doc)."""
    counts = np.asarray(histogram, dtype=float)
    modes = len(counts)
    on_modes = float(counts.sum() / n_samples)
    held = int((counts >= HELD_SHARE * counts.sum() / modes).sum()) if counts.sum() else 0
    if on_modes < ON_MODES_MIN:
        label = "off_modes"
    elif held < COLLAPSED_BELOW * modes:
        label = "collapsed"
    elif held < modes:
        label = "partial"
    else:
        label = "covered"
    return Truth(label, on_modes, held, modes)


def measure_truth(generator: torch.nn.Module, dataset: str, latent_dim: int, epoch: int) -> Truth:
    """Draw fresh samples (own noise, not the training's RNG) and label them."""
    noise = torch.Generator().manual_seed(TRUTH_SEED + epoch)
    device = next(generator.parameters()).device
    with torch.no_grad():
        z = torch.randn(TRUTH_SAMPLES, latent_dim, generator=noise).to(device)
        points = generator(z).float().cpu().numpy()
    result = toy_mode_metrics(points, mode_centres(dataset), mode_sigma(dataset))
    return truth_label(result["histogram"], TRUTH_SAMPLES)


@contextmanager
def observing_generators(truths: dict[tuple[int, int], Truth]) -> Iterator[None]:
    """Let the trainer's Monitor hand each epoch's generator to `measure_truth` first.

    The trainer builds its Monitor inside `train`, so the one way to see the generator at the
    very moment the Monitor measures it, without changing the trainer, is a subclass in its
    place for the duration of the runs.
    """

    import ganwatch.training.loop as trainer

    class TruthMonitor(Monitor):
        def end_epoch(self, samples=None, *, generator=None, latent_dim=None, **kwargs):
            if generator is not None:
                dim = int(latent_dim or self.config["latent_dim"])
                epoch = self.epoch + 1
                truths[(self.run_id, epoch)] = measure_truth(
                    generator, self.config["dataset"], dim, epoch
                )
            return super().end_epoch(samples, generator=generator, latent_dim=latent_dim, **kwargs)

    original = trainer.Monitor
    trainer.Monitor = TruthMonitor
    try:
        yield
    finally:
        trainer.Monitor = original


@dataclass
class RunResult:
    """One run: its case and seed, and per epoch the truth, the reported and the found kind."""

    case: Case
    seed: int
    epochs: list[int] = field(default_factory=list)
    truth: list[Truth] = field(default_factory=list)
    reported: list[str] = field(default_factory=list)
    found: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def onset(self) -> int | None:
        """First epoch the ground truth says collapsed."""
        return next(
            (e for e, t in zip(self.epochs, self.truth, strict=True) if t.label == "collapsed"),
            None,
        )

    def first(self, kind: str, after: int = 0) -> int | None:
        """First epoch at or after `after` whose reported verdict is `kind`."""
        return next(
            (
                e
                for e, k in zip(self.epochs, self.reported, strict=True)
                if k == kind and e >= after
            ),
            None,
        )

    @property
    def delay(self) -> int | None:
        """Epochs from the onset of collapse to the first mode_collapse verdict from then."""
        if self.onset is None:
            return None
        hit = self.first("mode_collapse", self.onset)
        return None if hit is None else hit - self.onset


def verdicts_by_epoch(
    payloads: Sequence[Mapping[str, Any]], epochs: Sequence[int]
) -> list[Verdict]:
    """The verdict in force after each epoch: the latest stored event at or before it.

    The Monitor stores an event whenever the reported or the found kind changes, so this
    rebuilds both exactly.
    """
    verdicts = sorted((Verdict.from_dict(p) for p in payloads), key=lambda v: v.epoch)
    out: list[Verdict] = []
    i, current = 0, Verdict("warming_up", 0, 0, None, 0.0)
    for epoch in epochs:
        while i < len(verdicts) and verdicts[i].epoch <= epoch:
            current = verdicts[i]
            i += 1
        out.append(current)
    return out


def train_case(case: Case, seed: int, store: RunStore, epochs: int | None = None) -> RunResult:
    """Train one case with one seed through the normal trainer and collect its labels
    (`epochs` shortens the run, for a smoke check of the script itself)."""
    values = {**COMMON, **case.overrides, "dataset": case.dataset, "seed": seed}
    if epochs is not None:
        values["epochs"] = epochs
    config = build_config(values)
    config.checkpoint_every = config.epochs  # one checkpoint, at the end
    from ganwatch.training import train

    truths: dict[tuple[int, int], Truth] = {}
    started = time.process_time()
    with observing_generators(truths):
        result = train(config, store, name=f"{case.name}-s{seed}", quiet=True)
    if not truths:
        raise RuntimeError(
            "no ground truth was measured: the trainer no longer builds its Monitor as "
            "ganwatch.training.loop.Monitor, so observing_generators must follow it"
        )
    run = RunResult(case, seed, seconds=time.process_time() - started)
    run.epochs = [int(r["epoch"]) for r in store.epoch_metrics(result.run_id)]
    payloads = [e["payload"] for e in store.events(result.run_id, "verdict")]
    in_force = verdicts_by_epoch(payloads, run.epochs)
    run.truth = [truths[(result.run_id, e)] for e in run.epochs]
    run.reported = [v.kind for v in in_force]
    run.found = [v.found_kind for v in in_force]
    return run


# ---- analysis ------------------------------------------------------------------------------


def confusion(pairs: Sequence[tuple[str, str]]) -> dict[str, Counter]:
    """Truth label -> Counter of verdict kinds."""
    table: dict[str, Counter] = {label: Counter() for label in TRUTH_LABELS}
    for truth, verdict in pairs:
        table[truth][verdict] += 1
    return table


def agreement(table: Mapping[str, Counter]) -> tuple[int, int]:
    """(agreeing, scored): scored rows are those with an expected verdict."""
    agree = sum(table[t][v] for t, v in EXPECTED.items())
    scored = sum(sum(table[t].values()) for t in EXPECTED)
    return agree, scored


def markdown_confusion(table: Mapping[str, Counter]) -> list[str]:
    lines = [
        "| truth \\ verdict | " + " | ".join(f"`{v}`" for v in VERDICTS) + " | total |",
        "|---" * (len(VERDICTS) + 2) + "|",
    ]
    for label in TRUTH_LABELS:
        row = table[label]
        cells = [f"**{row[v]}**" if EXPECTED.get(label) == v else str(row[v]) for v in VERDICTS]
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {sum(row.values())} |")
    agree, scored = agreement(table)
    share = f"{agree / scored:.0%}" if scored else "n/a"
    lines.append("")
    lines.append(
        f"Agreement on the scored rows (bold: collapsed -> mode_collapse, covered -> healthy, "
        f"off_modes -> convergence_failure): {agree} of {scored} ({share})."
    )
    return lines


# The dashboard's verdict colours; each truth label takes the colour of the verdict it expects.
VERDICT_COLORS = {
    "healthy": "#2b8a3e",
    "mode_collapse": "#c2255c",
    "convergence_failure": "#e8590c",
    "divergence": "#c92a2a",
    "warming_up": "#868e96",
}
TRUTH_COLORS = {
    "collapsed": VERDICT_COLORS["mode_collapse"],
    "covered": VERDICT_COLORS["healthy"],
    "off_modes": VERDICT_COLORS["convergence_failure"],
    "partial": "#f59f00",
}


def timeline_png(runs: Sequence[RunResult], path: Path) -> None:
    """Per run, two strips over the epochs: the truth (top) and the reported verdict (below),
    in matching colours, so agreement and delay can be seen at a glance."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch, Rectangle

    last = max(r.epochs[-1] for r in runs)
    fig, ax = plt.subplots(figsize=(11, 0.42 * len(runs) + 1.6), dpi=110)
    for i, run in enumerate(runs):
        y = len(runs) - 1 - i
        for epoch, truth, kind in zip(run.epochs, run.truth, run.reported, strict=True):
            ax.add_patch(Rectangle((epoch - 1, y + 0.5), 1, 0.4, color=TRUTH_COLORS[truth.label]))
            ax.add_patch(Rectangle((epoch - 1, y + 0.08), 1, 0.4, color=VERDICT_COLORS[kind]))
    ax.set_xlim(0, last)
    ax.set_ylim(0, len(runs))
    ax.set_yticks([len(runs) - 1 - i + 0.5 for i in range(len(runs))])
    ax.set_yticklabels([f"{r.case.name} s{r.seed}" for r in runs], fontsize=8)
    ax.set_xlabel("epoch (each run: ground truth in the upper strip, reported verdict below)")
    handles = [Patch(color=c, label=f"truth: {k}") for k, c in TRUTH_COLORS.items()]
    handles += [Patch(color=c, label=k) for k, c in VERDICT_COLORS.items() if k != "divergence"]
    ax.legend(handles=handles, ncol=5, fontsize=7, loc="lower center", bbox_to_anchor=(0.5, 1.0))
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def cpu_name() -> str:
    """The CPU's model name (Linux), else the machine type."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def _fmt(value: int | None, none: str = "-") -> str:
    return none if value is None else str(value)


def report(
    runs: Sequence[RunResult],
    seeds: Sequence[int],
    cpu_s: float,
    wall_s: float,
    started: datetime.datetime,
) -> str:
    """The markdown section for docs/diagnosis.md (and the console); `started` (UTC) dates
    it by when the runs began."""
    per_eval = confusion(
        [(t.label, k) for r in runs for t, k in zip(r.truth, r.reported, strict=True)]
    )
    per_eval_raw = confusion(
        [(t.label, k) for r in runs for t, k in zip(r.truth, r.found, strict=True)]
    )
    final = confusion([(r.truth[-1].label, r.reported[-1]) for r in runs])
    threads = torch.get_num_threads()
    seed_text = ", ".join(str(s) for s in seeds)
    lines = [
        "### Toy data on the CPU (run)",
        "",
        "Command: `OMP_NUM_THREADS=1 .venv/bin/python scripts/validate_diagnosis.py "
        "--write-docs`; device: CPU "
        f"({cpu_name()}, {os.cpu_count()} cores shared with other work, torch "
        f"{torch.__version__}, {threads} thread); date: {started:%Y-%m-%d} "
        f"(started {started:%H:%M} UTC); "
        f"{len(runs)} runs, {cpu_s / 60:.1f} min CPU ({wall_s / 60:.1f} min wall). The "
        "numbers below are this script's output, written here by it.",
        "",
        f"Every run: ganwatch's trainer (MLP pair, BCE, Adam betas 0.5/0.999), "
        f"{COMMON['train_size']:,} training points, batch {COMMON['batch_size']}, metrics and "
        f"a diagnosis after every epoch, seeds {seed_text}.",
        "",
        "| case | data | chosen to | latent dim | lr | epochs |",
        "|---|---|---|---|---|---|",
    ]
    for case in CASES:
        o = case.overrides
        lines.append(
            f"| {case.name} | {case.dataset} | {case.intent} | {o['latent_dim']} | "
            f"{o['lr']:g} | {o['epochs']} |"
        )
    lines += [
        "",
        "**Per evaluation** (every epoch of every run; the reported verdict, after hysteresis):",
        "",
        *markdown_confusion(per_eval),
        "",
        "The same evaluations with the detectors' own per-evaluation kind (`raw_kind`, "
        "before hysteresis):",
        "",
        *markdown_confusion(per_eval_raw),
        "",
        "**Per run, at the end** (truth at the last epoch vs the final reported verdict):",
        "",
        *markdown_confusion(final),
        "",
        "**Runs, and the detection delay** (onset: the first epoch the truth says collapsed; "
        "delay: epochs from it to the first mode_collapse verdict at or after it; "
        "'missed' when none came):",
        "",
        "| run | truth at the end (held/modes, on modes) | final verdict | epochs collapsed "
        "| onset | first mode_collapse | delay | epochs reported mode_collapse | CPU s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        t = r.truth[-1]
        collapsed = sum(x.label == "collapsed" for x in r.truth)
        delay = "missed" if r.onset is not None and r.delay is None else _fmt(r.delay)
        reported_mc = sum(k == "mode_collapse" for k in r.reported)
        lines.append(
            f"| {r.case.name} s{r.seed} | {t.label} ({t.held}/{t.modes}, {t.on_modes:.2f}) | "
            f"{r.reported[-1]} | {collapsed}/{len(r.epochs)} | {_fmt(r.onset)} | "
            f"{_fmt(r.first('mode_collapse'))} | {delay} | {reported_mc} | {r.seconds:.0f} |"
        )
    delays = [r.delay for r in runs if r.delay is not None]
    missed = sum(1 for r in runs if r.onset is not None and r.delay is None)
    never = [r for r in runs if r.onset is None]
    false_alarms = sum(1 for r in never if "mode_collapse" in r.reported)
    summary = (
        f"Detection delay over the {len(delays)} runs whose collapse was reported: "
        + (
            f"median {float(np.median(delays)):g}, max {max(delays)} epochs"
            if delays
            else "none reported"
        )
        + f"; {missed} run(s) with a collapse never reported from its onset; "
        f"{false_alarms} of {len(never)} run(s) the truth never called collapsed were "
        "reported as mode_collapse at some epoch."
    )
    lines += [
        "",
        summary,
        "",
        f"![ground truth and reported verdict per epoch, every run]({PNG.name})",
    ]
    return "\n".join(lines)


def write_docs(section: str, doc: Path = DOC) -> None:
    """Replace the text between the validation markers in docs/diagnosis.md."""
    text = doc.read_text()
    if START not in text or END not in text:
        raise SystemExit(f"{doc} lacks the markers {START} ... {END}")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    doc.write_text(f"{head}{START}\n{section}\n{END}{tail}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--store", help="keep the runs in this store (default: a temp dir)")
    parser.add_argument("--write-docs", action="store_true", help="update docs/diagnosis.md")
    parser.add_argument("--epochs", type=int, help="shorten every run (a smoke check only)")
    args = parser.parse_args(argv)
    if args.write_docs and args.epochs is not None:
        parser.error("--write-docs records the full runs; leave out --epochs")
    torch.set_num_threads(1)
    started_cpu, started_wall = time.process_time(), time.perf_counter()
    started = datetime.datetime.now(datetime.timezone.utc)
    with tempfile.TemporaryDirectory() as tmp:
        runs: list[RunResult] = []
        with RunStore(args.store or tmp) as store:
            for case in CASES:
                for seed in args.seeds:
                    run = train_case(case, seed, store, args.epochs)
                    runs.append(run)
                    labels = Counter(t.label for t in run.truth)
                    print(
                        f"{case.name} seed {seed}: {run.seconds:.0f} s CPU, truth "
                        f"{dict(labels)}, final {run.reported[-1]}",
                        file=sys.stderr,
                        flush=True,
                    )
    section = report(
        runs,
        args.seeds,
        time.process_time() - started_cpu,
        time.perf_counter() - started_wall,
        started,
    )
    print(section)
    if args.write_docs:
        write_docs(section)
        timeline_png(runs, PNG)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
