"""The ``ganwatch`` command: argument parsing only; each command calls one library function."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ganwatch import __version__
from ganwatch.config import (
    DATASETS,
    DEVICES,
    LOSSES,
    MODELS,
    PRECISIONS,
    PRESETS,
    SCALES,
    STABILIZERS,
)

# Flags that map one-to-one onto TrainConfig fields: (flag, type, help).
TRAIN_FLAGS: tuple[tuple[str, type, str], ...] = (
    ("--latent-dim", int, "size of the generator's latent vector (article: 128; 2 and 1 collapse)"),
    ("--lr", float, "Adam learning rate for both networks (article: 2e-4; 0.2 fails)"),
    ("--beta1", float, "Adam beta1 (article: 0.5; PyTorch's default 0.9 fails)"),
    ("--beta2", float, "Adam beta2 (article: 0.999)"),
    ("--d-steps", int, "D steps per G step, the article's k (default: 1; wgan, wgan-gp: 5)"),
    ("--epochs", int, "passes over the training set"),
    ("--batch-size", int, "images per batch (article: 1024)"),
    ("--train-size", int, "train on the first N samples only"),
    ("--sample-size", int, "fixed noise vectors for the per-epoch grid (default 64)"),
    ("--seed", int, "seed for initialisation, shuffling and noise (default 0)"),
    ("--checkpoint-every", int, "epochs between checkpoints (one is always written at the end)"),
)


def _add_store(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store",
        metavar="DIR",
        help="run store folder (default: $GANWATCH_STORE, else ./ganwatch_runs)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ganwatch", description="Train GANs and catch their failure modes while they happen."
    )
    parser.add_argument("--version", action="version", version=f"ganwatch {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = sub.add_parser(
        "train",
        help="train a GAN and record it in the store",
        description="Train the article's GAN (or the MLP pair on 2-D data).",
    )
    train.add_argument(
        "--preset",
        choices=list(PRESETS),
        help="one of the article's experiments (values below override it)",
    )
    train.add_argument(
        "--scale",
        choices=SCALES,
        help="full: the article's sizes; quick: shrunk to run on a CPU in minutes",
    )
    train.add_argument("--config", metavar="FILE", help="YAML or JSON file of config keys")
    train.add_argument(
        "--set",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="any config key, repeatable (e.g. --set lr=1e-4)",
    )
    train.add_argument("--dataset", choices=DATASETS, help="training data (default mnist)")
    train.add_argument(
        "--data-dir",
        metavar="DIR",
        help="folder with the dataset's files (default: $GANWATCH_DATA_DIR, "
        "else ~/.cache/ganwatch/<dataset>, downloaded when missing)",
    )
    train.add_argument(
        "--model",
        choices=MODELS,
        help="model pair (default: by data shape); cgan, acgan, infogan: conditional models",
    )
    train.add_argument("--loss", choices=LOSSES, help="GAN loss (default: bce, the article's)")
    train.add_argument(
        "--stabilize",
        metavar="NAMES",
        help="comma-separated stabilisers, each optionally name:value: " + ", ".join(STABILIZERS),
    )
    train.add_argument("--device", choices=DEVICES, help="auto: CUDA when available")
    train.add_argument(
        "--precision",
        choices=PRECISIONS,
        help="auto: TF32 on CUDA, FP32 on CPU; bf16: autocast to bfloat16",
    )
    for flag, kind, text in TRAIN_FLAGS:
        train.add_argument(flag, type=kind, help=text)
    train.add_argument(
        "--stop-on",
        metavar="VERDICTS",
        help="stop when the diagnosis says one of these (comma-separated): "
        "mode_collapse, convergence_failure, divergence",
    )
    train.add_argument("--eval-every", type=int, help="epochs between metric evaluations (1)")
    train.add_argument("--ndb-every", type=int, help="evaluations between NDB runs (5)")
    train.add_argument(
        "--no-metrics",
        dest="metrics",
        action="store_false",
        default=None,
        help="record losses and grids only: no metrics, diagnosis from losses",
    )
    train.add_argument("--name", help="a name for the run (default: the preset or dataset)")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_store(train)

    resume = sub.add_parser("resume", help="continue a run from its last checkpoint")
    resume.add_argument("run", help="run id or name")
    resume.add_argument("--epochs", type=int, help="train to this many epochs instead")
    resume.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_store(resume)

    runs = sub.add_parser("runs", help="list the runs in the store")
    _add_store(runs)

    show = sub.add_parser("show", help="one run's config, progress and last metrics")
    show.add_argument("run", help="run id or name")
    _add_store(show)

    reproduce = sub.add_parser(
        "reproduce",
        help="train and diagnose the article's five experiments and write a markdown report",
    )
    reproduce.add_argument(
        "--scale",
        choices=SCALES,
        default="quick",
        help="quick (CPU, minutes) or full (the article's epochs, a GPU)",
    )
    reproduce.add_argument(
        "--out", default="reproduce", metavar="DIR", help="report folder (default ./reproduce)"
    )
    reproduce.add_argument("--data-dir", metavar="DIR", help="where the MNIST files are")
    reproduce.add_argument("--device", choices=DEVICES, help="auto: CUDA when available")
    reproduce.add_argument("--seed", type=int, help="seed for every experiment (default 0)")
    reproduce.add_argument(
        "--presets",
        metavar="P,P",
        help=f"comma-separated experiments to run (default all: {', '.join(PRESETS)})",
    )
    reproduce.add_argument(
        "--remedy",
        action="store_true",
        help="train each failing experiment again with its diagnosis's first remedy",
    )
    reproduce.add_argument("--quiet", action="store_true", help="no progress bars")
    _add_store(reproduce)

    diagnose = sub.add_parser("diagnose", help="a run's verdicts over time, with evidence")
    diagnose.add_argument("run", help="run id or name")
    diagnose.add_argument("--json", action="store_true", help="print the verdict events as JSON")
    _add_store(diagnose)

    export = sub.add_parser(
        "export", help="write a run's metrics CSV, loss chart and grid timeline"
    )
    export.add_argument("run", help="run id or name")
    export.add_argument("--out", required=True, metavar="DIR", help="folder to write into")
    _add_store(export)
    _add_sweep_command(sub)
    _add_metric_commands(sub)
    _add_dashboard_commands(sub)
    return parser


def _add_sweep_command(sub) -> None:
    sweep = sub.add_parser(
        "sweep",
        help="train a grid of configs from a YAML file; rerun to resume; summarise",
        description="Train every cell of the grid in FILE (name, base, grid) as a named run, "
        "skipping cells already done, resuming interrupted ones, then print a summary table "
        "from the store.",
    )
    sweep.add_argument("file", metavar="FILE", help="sweep YAML: name, base, grid")
    sweep.add_argument(
        "--jobs", type=int, default=1, metavar="N", help="cells at once, in subprocesses (1)"
    )
    sweep.add_argument(
        "--summary", action="store_true", help="only print the summary table; train nothing"
    )
    sweep.add_argument(
        "--format",
        choices=["text", "markdown", "json"],
        default="text",
        help="summary format (default text; markdown for docs, json for scripts)",
    )
    sweep.add_argument(
        "--restart-changed",
        action="store_true",
        help="start cells whose recorded config differs from FILE as new runs",
    )
    sweep.add_argument("--verbose", action="store_true", help="progress bars and verdict lines")
    _add_store(sweep)


def _add_dashboard_commands(sub) -> None:
    dashboard = sub.add_parser(
        "dashboard",
        help="a live, read-only web view of the store",
        description="Serve the runs list, run pages and comparisons on a local web page that "
        "updates while runs train. It only reads the store.",
    )
    dashboard.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only; "
        "anything else is reachable from the network and warns)",
    )
    dashboard.add_argument(
        "--port", type=int, default=8787, help="port (default 8787; 0 picks a free one)"
    )
    _add_store(dashboard)

    report = sub.add_parser(
        "report",
        help="write runs' dashboard views into one offline HTML file",
        description="Write the dashboard's views of one or more runs into a single HTML file "
        "that opens without a server or network (data, scripts and pictures inline).",
    )
    report.add_argument("runs", nargs="+", metavar="RUN", help="run ids or names")
    report.add_argument("--out", required=True, metavar="FILE", help="HTML file to write")
    _add_store(report)


def _add_metric_commands(sub) -> None:
    metrics = sub.add_parser(
        "metrics",
        help="measure samples against a reference (NDB, PRDC, FID, KID, modes)",
        description="Compare samples with a reference. Inputs are .npy arrays or dataset names "
        "(mnist, mnist:test, ring, ...). Images (N,28,28) or (N,C,28,28) go through "
        "the MNIST classifier where a metric needs features (uint8 = pixel values "
        "0..255, float = a generator's tanh output in [-1, 1]); (N, D) arrays are "
        "used as given.",
    )
    metrics.add_argument("metric", choices=["ndb", "prdc", "fid", "kid", "modes"])
    metrics.add_argument(
        "--reference",
        required=True,
        metavar="R",
        help="reference samples: R.npy or a dataset name (default split: train)",
    )
    metrics.add_argument(
        "--samples",
        required=True,
        metavar="S",
        help="samples to judge: S.npy or a dataset name such as mnist:test",
    )
    metrics.add_argument("--bins", type=int, default=100, help="NDB bins K (default 100)")
    metrics.add_argument("--k", type=int, help="nearest neighbours for PRDC (default 5)")
    metrics.add_argument("--seed", type=int, default=0, help="seed for k-means and KID subsets")
    metrics.add_argument("--data-dir", metavar="DIR", help="where named datasets' files are")
    metrics.add_argument("--chart", metavar="PNG", help="ndb: also write the bins chart here")
    metrics.add_argument("--json", action="store_true", help="print one JSON object")

    classifier = sub.add_parser("classifier", help="the feature classifier for image metrics")
    classifier_sub = classifier.add_subparsers(
        dest="classifier_command", required=True, metavar="ACTION"
    )
    train = classifier_sub.add_parser("train", help="train and cache the MNIST-like classifier")
    train.add_argument("--dataset", default="mnist", choices=["mnist", "fashion-mnist", "kmnist"])
    train.add_argument("--data-dir", metavar="DIR", help="where the dataset's files are")
    train.add_argument("--device", default="auto", choices=DEVICES)
    train.add_argument("--quiet", action="store_true", help="no progress output")


def _parse_set(items: Sequence[str]) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--set: expected KEY=VALUE, got {item!r}")
        out[key.strip()] = value.strip()
    return out


def train_overrides(args: argparse.Namespace) -> dict:
    """Config file values, then --set, then explicit flags (later wins)."""
    from ganwatch.config import load_config_file

    values: dict = load_config_file(args.config) if args.config else {}
    values.update(_parse_set(args.set))
    for key in (
        "preset",
        "scale",
        "dataset",
        "data_dir",
        "model",
        "loss",
        "stabilize",
        "device",
        "precision",
        "stop_on",
        "eval_every",
        "ndb_every",
        "metrics",
    ):
        if getattr(args, key) is not None:
            values[key] = getattr(args, key)
    for flag, _, _ in TRAIN_FLAGS:
        key = flag[2:].replace("-", "_")
        if getattr(args, key) is not None:
            values[key] = getattr(args, key)
    return values


def _finished_message(result, store) -> str:
    return (
        f"run {result.run_id} {result.status}: {result.epochs_done} epochs, {result.step} steps\n"
        f"  store:  {store.db_path}\n"
        f"  images: {result.run_dir}\n"
        f"  next:   ganwatch show {result.run_id} --store {store.root}   |   "
        f"ganwatch export {result.run_id} --store {store.root} --out export-{result.run_id}"
    )


def cmd_train(args: argparse.Namespace) -> int:
    from ganwatch.config import build_config
    from ganwatch.store import RunStore
    from ganwatch.training import train

    config = build_config(train_overrides(args))
    with RunStore(args.store) as store:
        result = train(config, store, name=args.name, quiet=args.quiet)
        print(_finished_message(result, store))
    return 0 if result.status == "finished" else 1


def cmd_resume(args: argparse.Namespace) -> int:
    from ganwatch.store import RunStore
    from ganwatch.training import resume

    with RunStore(args.store) as store:
        result = resume(store, args.run, epochs=args.epochs, quiet=args.quiet)
        print(_finished_message(result, store))
    return 0 if result.status == "finished" else 1


def cmd_runs(args: argparse.Namespace) -> int:
    from ganwatch.export import runs_table
    from ganwatch.store import RunStore

    with RunStore(args.store) as store:
        runs = store.list_runs()
        print(runs_table(runs) if runs else f"no runs in {store.db_path}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from ganwatch.export import run_summary
    from ganwatch.store import RunStore

    with RunStore(args.store) as store:
        print(run_summary(store, store.get_run(args.run)))
    return 0


def _presets(text: str | None) -> tuple[str, ...]:
    """``--presets a,b`` -> ("a", "b"), every name checked; None -> all five."""
    if text is None:
        return tuple(PRESETS)
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in PRESETS]
    if unknown or not names:
        raise ValueError(f"--presets: expected names from {', '.join(PRESETS)}, got {text!r}")
    return names


def cmd_reproduce(args: argparse.Namespace) -> int:
    from ganwatch.reproduce import reproduce
    from ganwatch.store import RunStore

    overrides = {
        k: v
        for k, v in (("data_dir", args.data_dir), ("device", args.device), ("seed", args.seed))
        if v is not None
    }
    with RunStore(args.store) as store:
        report = reproduce(
            args.out,
            scale=args.scale,
            store=store,
            overrides=overrides,
            presets=_presets(args.presets),
            remedy=args.remedy,
            quiet=args.quiet,
        )
    print(f"report: {report}")
    return 0


def cmd_diagnose(args: argparse.Namespace) -> int:
    import json

    from ganwatch.export import diagnosis_timeline
    from ganwatch.store import RunStore

    with RunStore(args.store) as store:
        run = store.get_run(args.run)
        if args.json:
            print(json.dumps([e["payload"] for e in store.events(run.id, "verdict")]))
        else:
            print(diagnosis_timeline(store, run))
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from ganwatch.sweep import sweep_command

    return sweep_command(
        args.file,
        store=args.store,
        jobs=args.jobs,
        summary_only=args.summary,
        fmt=args.format,
        restart_changed=args.restart_changed,
        verbose=args.verbose,
    )


def cmd_export(args: argparse.Namespace) -> int:
    from ganwatch.export import export_run
    from ganwatch.store import RunStore

    with RunStore(args.store) as store:
        for path in export_run(store, args.run, Path(args.out)):
            print(path)
    return 0


def cmd_metrics(args: argparse.Namespace) -> int:
    import json

    from ganwatch.evaluate import compute, load_samples

    reference = load_samples(args.reference, data_dir=args.data_dir, default_split="train")
    samples = load_samples(args.samples, data_dir=args.data_dir, default_split="test")
    result = compute(
        args.metric,
        reference,
        samples,
        bins=args.bins,
        k=args.k,
        seed=args.seed,
        data_dir=args.data_dir,
        chart=args.chart,
    )
    if args.json:
        print(json.dumps(result))
        return 0
    for key, value in result.items():
        if isinstance(value, float):
            print(f"{key}: {value:.6g}")
        elif not isinstance(value, list) or len(value) <= 20:
            print(f"{key}: {value}")
    return 0


def cmd_classifier(args: argparse.Namespace) -> int:
    from ganwatch.metrics.classifier import train_and_cache_classifier
    from ganwatch.training.device import resolve_device

    path, accuracy = train_and_cache_classifier(
        args.dataset, data_dir=args.data_dir, device=resolve_device(args.device), quiet=args.quiet
    )
    print(f"classifier for {args.dataset}: test accuracy {accuracy:.2%}\n  cached at {path}")
    return 0


def cmd_dashboard(args: argparse.Namespace) -> int:
    from ganwatch.dashboard.server import serve

    return serve(args.store, host=args.host, port=args.port)


def cmd_report(args: argparse.Namespace) -> int:
    from ganwatch.dashboard.report import write_report

    print(write_report(args.store, args.runs, args.out))
    return 0


COMMANDS = {
    "train": cmd_train,
    "resume": cmd_resume,
    "runs": cmd_runs,
    "show": cmd_show,
    "export": cmd_export,
    "sweep": cmd_sweep,
    "dashboard": cmd_dashboard,
    "report": cmd_report,
    "metrics": cmd_metrics,
    "diagnose": cmd_diagnose,
    "reproduce": cmd_reproduce,
    "classifier": cmd_classifier,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        print(
            "ganwatch: interrupted; what was recorded is kept "
            "(continue with 'ganwatch resume RUN')",
            file=sys.stderr,
        )
        return 130
    except (ValueError, KeyError, OSError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"ganwatch: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
