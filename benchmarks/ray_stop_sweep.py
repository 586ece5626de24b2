"""What stopping failing trials by verdict saves on a real sweep, and what it costs.

The same 2-D sweep (ring and grid, three learning rates, two losses, two latent sizes, two
seeds: 48 trials) runs twice as Ray Tune trials on a local Ray: once to the end, once with
the stop rule ``stop: {verdicts: [...], min_epochs: M}`` (all three failure verdicts unless
``--verdicts`` names fewer). It prints, as markdown: epochs and trial-seconds trained by
each, the wall time, the best trial of each (most modes captured, then most high-quality
samples, at the trial's last epoch), and every stopped trial's ending in the run that was not
stopped, which says whether the rule ended a trial that would have turned out well. A rerun
with the same ``--out`` reuses the finished full sweep.

    python benchmarks/ray_stop_sweep.py [--epochs 30] [--min-epochs 10] [--train-size 6400]
                                        [--verdicts mode_collapse,divergence] [--out DIR]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import ray

from ganwatch.store import RunStore
from ganwatch.sweep import load_sweep, run_sweep

GRID = """\
grid:
  dataset: [ring, grid]
  lr: [2.0e-4, 1.0e-3, 5.0e-3]
  loss: [bce, lsgan]
  latent_dim: [2, 16]
  seed: [0, 1]
"""


def sweep_file(folder: Path, name: str, epochs: int, stop: str, train_size: int) -> Path:
    path = folder / f"{name}.yaml"
    base = f"base: {{train_size: {train_size}, batch_size: 128, epochs: {epochs}, device: cpu}}\n"
    path.write_text(f"name: {name}\n{base}{GRID}{stop}resources: {{cpu: 1}}\n")
    return path


def endings(store_dir: Path, names: list[str]) -> dict[str, dict]:
    """Per cell name: status, last verdict, epochs, seconds trained, modes, quality."""
    out = {}
    with RunStore(store_dir, read_only=True) as store:
        for run in store.list_runs():
            epochs = store.epoch_metrics(run.id)
            verdicts = store.events(run.id, "verdict")
            last = epochs[-1] if epochs else {}
            cell = run.name.split("/", 1)[1]
            out[cell] = {
                "status": run.status,
                "verdict": verdicts[-1]["payload"]["kind"] if verdicts else "none",
                "epochs": len(epochs),
                "seconds": sum(row.get("time/epoch_s", 0.0) for row in epochs),
                "modes": last.get("metric/modes_captured", 0.0),
                "quality": last.get("metric/high_quality", 0.0),
            }
    assert sorted(out) == sorted(names), "every cell has one run"
    return out


def best(cells: dict[str, dict]) -> str:
    return max(cells, key=lambda c: (cells[c]["modes"], cells[c]["quality"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--min-epochs", type=int, default=10)
    parser.add_argument("--train-size", type=int, default=6400, help="points (128 a batch)")
    parser.add_argument(
        "--verdicts",
        default="mode_collapse,convergence_failure,divergence",
        help="the verdicts that stop a trial (comma-separated)",
    )
    parser.add_argument("--out", type=Path, default=None, help="keep the stores here")
    args = parser.parse_args()
    folder = args.out or Path(tempfile.mkdtemp(prefix="ganwatch-ray-stop-"))
    folder.mkdir(parents=True, exist_ok=True)
    verdicts = [kind.strip() for kind in args.verdicts.split(",")]
    stop = f"stop: {{verdicts: [{', '.join(verdicts)}], min_epochs: {args.min_epochs}}}\n"
    initials = "+".join("".join(word[0] for word in kind.split("_")) for kind in verdicts)
    stopped_label = f"stopped-m{args.min_epochs}-{initials}"
    ray.init(include_dashboard=False, log_to_driver=False)
    results, walls = {}, {}
    # A rerun with the same --out trains only what is missing: the full sweep is done once,
    # and each --min-epochs gets its own stopped sweep.
    for label, rule in (("full", ""), (stopped_label, stop)):
        sweep = load_sweep(sweep_file(folder, f"ray-{label}", args.epochs, rule, args.train_size))
        started = time.perf_counter()
        with RunStore(folder / label) as store:
            run_sweep(sweep, store, engine="ray")
        walls[label] = time.perf_counter() - started
        names = [cell.name.split("/", 1)[1] for cell in sweep.cells]
        results[label] = endings(folder / label, names)
    ray.shutdown()
    full, stopped = results["full"], results[stopped_label]
    steps = args.epochs * -(-args.train_size // 128)
    each = f"{args.epochs} epochs ({steps} steps) each"
    print(
        f"{len(full)} trials, {each}; stop on {', '.join(verdicts)} from epoch {args.min_epochs}\n"
    )
    print("| sweep | epochs trained | trial-seconds | wall s | best trial |")
    print("|---|---:|---:|---:|---|")
    for label, cells in results.items():
        epochs = sum(c["epochs"] for c in cells.values())
        seconds = sum(c["seconds"] for c in cells.values())
        print(f"| {label} | {epochs} | {seconds:.0f} | {walls[label]:.0f} | {best(cells)} |")
    saved = 1 - sum(c["seconds"] for c in stopped.values()) / sum(
        c["seconds"] for c in full.values()
    )
    print(f"\ncompute saved: {saved:.0%}; same best trial: {best(full) == best(stopped)}\n")
    print("| stopped trial | at epoch | verdict | unstopped ending | modes | HQ % |")
    print("|---|---:|---|---|---:|---:|")
    for cell, ending in sorted(stopped.items()):
        if ending["status"] == "stopped":
            other = full[cell]
            print(
                f"| {cell} | {ending['epochs']} | {ending['verdict']} | {other['verdict']} "
                f"| {other['modes']:.0f} | {100 * other['quality']:.0f} |"
            )
    print(f"\nstores: {folder}")


if __name__ == "__main__":
    main()
