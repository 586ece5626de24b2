"""The ``ganwatch`` command line's arguments: every command and flag, with its help."""

from __future__ import annotations

import argparse

from ganwatch import __version__
from ganwatch.catalog import DATASETS, LOSSES, MODELS, STABILIZERS
from ganwatch.catalog.keys import METRIC_FAMILIES
from ganwatch.config import DEVICES, PRECISIONS, PRESETS, SCALES
from ganwatch.sweep.runner import ENGINES
from ganwatch.sweep.summary import FORMATS
from ganwatch.validation.corpus import HELD_OUT_SEEDS, SEEDS, seeds_flag

# Flags that map one-to-one onto TrainConfig fields: (flag, type, help).
TRAIN_FLAGS: tuple[tuple[str, type, str], ...] = (
    ("--latent-dim", int, "size of the generator's latent vector (article: 128; 2 and 1 collapse)"),
    ("--lr", float, "Adam learning rate for both networks (article: 2e-4; 0.2 fails)"),
    ("--beta1", float, "Adam beta1 (article: 0.5; PyTorch's default 0.9 fails)"),
    ("--beta2", float, "Adam beta2 (article: 0.999)"),
    ("--d-steps", int, "D steps per G step, the article's k (default: 1; wgan, wgan-gp: 5)"),
    ("--g-steps", int, "G steps after each round of D steps (default 1)"),
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
        prog="ganwatch",
        description="Train GANs and catch their failure modes while they happen.",
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"ganwatch {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = sub.add_parser(
        allow_abbrev=False,
        name="train",
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
    train.add_argument("--dataset", choices=list(DATASETS), help="training data (default mnist)")
    train.add_argument(
        "--data-dir",
        metavar="DIR",
        help="folder with the dataset's files (default: $GANWATCH_DATA_DIR, "
        "else ~/.cache/ganwatch/<dataset>, downloaded when missing)",
    )
    train.add_argument(
        "--model",
        choices=list(MODELS),
        help="model pair (default: by data shape); cgan, acgan, infogan: conditional models",
    )
    train.add_argument(
        "--loss", choices=list(LOSSES), help="GAN loss (default: bce, the article's)"
    )
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
    train.add_argument(
        "--stop-confidence",
        type=float,
        metavar="P",
        help="... only when the verdict is said with at least this confidence (default 0: "
        "any; 0.5 stops only on verdicts their track record says are right more often "
        "than not)",
    )
    train.add_argument(
        "--stop-min-epochs",
        type=int,
        metavar="N",
        help="... only from epoch N on (default 1): a grace period for the first epochs, "
        "whose samples are far from the data in a GAN that goes on to learn too",
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

    resume = sub.add_parser(
        "resume", allow_abbrev=False, help="continue a run from its last checkpoint"
    )
    resume.add_argument("run", help="run id or name")
    resume.add_argument("--epochs", type=int, help="train to this many epochs instead")
    resume.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_store(resume)

    runs = sub.add_parser("runs", allow_abbrev=False, help="list the runs in the store")
    _add_store(runs)

    show = sub.add_parser(
        "show", allow_abbrev=False, help="one run's config, progress and last metrics"
    )
    show.add_argument("run", help="run id or name")
    _add_store(show)

    reproduce = sub.add_parser(
        allow_abbrev=False,
        name="reproduce",
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
        "--epochs", type=int, help="train every experiment this many epochs (a shorter look)"
    )
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

    diagnose = sub.add_parser(
        "diagnose", allow_abbrev=False, help="a run's verdicts over time, with evidence"
    )
    diagnose.add_argument("run", help="run id or name")
    diagnose.add_argument("--json", action="store_true", help="print the verdict events as JSON")
    _add_store(diagnose)

    export = sub.add_parser(
        allow_abbrev=False,
        name="export",
        help="write a run's metrics CSV, loss chart and grid timeline",
    )
    export.add_argument("run", help="run id or name")
    export.add_argument("--out", required=True, metavar="DIR", help="folder to write into")
    _add_store(export)
    _add_sweep_command(sub)
    _add_validate_command(sub)
    _add_metric_commands(sub)
    _add_dashboard_commands(sub)
    return parser


def _add_sweep_command(sub) -> None:
    sweep = sub.add_parser(
        allow_abbrev=False,
        name="sweep",
        help="train a grid of configs from a YAML file; rerun to resume; summarise",
        description="Train every cell of the grid in FILE (name, base, grid) as a named run, "
        "skipping cells already done, resuming interrupted ones, then print a summary table "
        "from the store.",
    )
    sweep.add_argument(
        "file", metavar="FILE", help="sweep YAML: name, base, grid (and stop, resources for Ray)"
    )
    sweep.add_argument(
        "--jobs", type=int, default=1, metavar="N", help="cells at once, in subprocesses (1)"
    )
    sweep.add_argument(
        "--summary", action="store_true", help="only print the summary table; train nothing"
    )
    sweep.add_argument(
        "--format",
        choices=FORMATS,
        default="text",
        help="summary format (default text; markdown for docs, json for scripts)",
    )
    sweep.add_argument(
        "--restart-changed",
        action="store_true",
        help="start cells whose recorded config differs from FILE as new runs",
    )
    sweep.add_argument(
        "--engine",
        choices=ENGINES,
        default="local",
        help="local: this machine's processes (default); ray: Ray Tune trials "
        "(pip install 'ganwatch[ray]'), stopped early by the file's stop: rule",
    )
    sweep.add_argument(
        "--address",
        metavar="ADDR",
        help="--engine ray: the cluster (auto, or ray://host:10001); default Ray's own "
        "(RAY_ADDRESS, a `ray start` on this machine, else a local Ray)",
    )
    sweep.add_argument("--verbose", action="store_true", help="progress bars and verdict lines")
    _add_store(sweep)


def _add_validate_command(sub) -> None:
    validate = sub.add_parser(
        allow_abbrev=False,
        name="validate",
        help="build the labelled corpus of real runs, tune the detectors, report their accuracy",
        description="build: train the corpus's recipes x seeds with an independent judge of "
        "every epoch (resumable); rejudge: judge the kept generators again with the current "
        "judge, without training; tune: search the thresholds on the calibration half; "
        "calibrate: measure each verdict's track record on the calibration half (the cap on "
        "its confidence); report: the held-out half's confusion matrices, delays, false "
        "alarms and track record.",
    )
    validate.add_argument("action", choices=["build", "rejudge", "tune", "calibrate", "report"])
    validate.add_argument("--out", required=True, metavar="DIR", help="the corpus folder")
    validate.add_argument("--jobs", type=int, default=1, metavar="N", help="runs at once (build)")
    validate.add_argument("--recipes", metavar="A,B", help="only these recipes (build)")
    validate.add_argument(
        "--seeds",
        metavar="0,1",
        help=f"only these seeds (build; default {seeds_flag(SEEDS)}; seeds "
        f"{seeds_flag(HELD_OUT_SEEDS)} form the held-out half, any other calibrates)",
    )
    validate.add_argument("--data-dir", metavar="DIR", help="where the MNIST files are")
    validate.add_argument(
        "--write-docs", metavar="MD", help="report: write the section into this Markdown file"
    )
    validate.add_argument(
        "--record",
        metavar="JSON",
        help="calibrate: write the track record here (default: the one ganwatch ships, "
        "src/ganwatch/diagnose/track_record.json)",
    )


def _add_dashboard_commands(sub) -> None:
    dashboard = sub.add_parser(
        allow_abbrev=False,
        name="dashboard",
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
        allow_abbrev=False,
        name="report",
        help="write runs' dashboard views into one offline HTML file",
        description="Write the dashboard's views of one or more runs into a single HTML file "
        "that opens without a server or network (data, scripts and pictures inline).",
    )
    report.add_argument("runs", nargs="+", metavar="RUN", help="run ids or names")
    report.add_argument("--out", required=True, metavar="FILE", help="HTML file to write")
    _add_store(report)


def _add_metric_commands(sub) -> None:
    metrics = sub.add_parser(
        allow_abbrev=False,
        name="metrics",
        help="measure samples against a reference (NDB, PRDC, FID, KID, modes)",
        description="Compare samples with a reference. Inputs are .npy arrays or dataset names "
        "(mnist, mnist:test, ring, ...). Images (N,28,28) or (N,C,28,28) go through "
        "the MNIST classifier where a metric needs features (uint8 = pixel values "
        "0..255, float = a generator's tanh output in [-1, 1]); (N, D) arrays are "
        "used as given.",
    )
    metrics.add_argument("metric", choices=METRIC_FAMILIES)
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

    classifier = sub.add_parser(
        "classifier", allow_abbrev=False, help="the feature classifier for image metrics"
    )
    classifier_sub = classifier.add_subparsers(
        dest="classifier_command", required=True, metavar="ACTION"
    )
    train = classifier_sub.add_parser(
        "train",
        allow_abbrev=False,
        help="train and cache the MNIST-like classifier",
        description="Train the dataset's digit classifier on this data and cache it; a cached "
        "classifier comes before the one shipped for official MNIST. Fashion-MNIST, KMNIST "
        "and other digits are trained on first use anyway; this pays that in advance.",
    )
    train.add_argument(
        "--dataset",
        default="mnist",
        choices=[name for name, spec in DATASETS.items() if spec.classifier == name],
    )
    train.add_argument("--data-dir", metavar="DIR", help="where the dataset's files are")
    train.add_argument("--device", default="auto", choices=DEVICES)
    train.add_argument("--quiet", action="store_true", help="no progress output")
