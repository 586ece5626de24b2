"""The ``ganwatch`` commands: each turns its parsed arguments into one library call."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ganwatch.cli.parser import TRAIN_FLAGS
from ganwatch.config import PRESETS


def _parse_set(items: Sequence[str]) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--set: expected KEY=VALUE, got {item!r}")
        out[key.strip()] = value.strip()
    return out


def _config_of(args: argparse.Namespace):
    """The run's config; a bad value that came from the config file says so."""
    from ganwatch.config import ConfigError, build_config, load_config_file

    try:
        return build_config(train_overrides(args))
    except ConfigError as exc:
        if args.config and exc.key in load_config_file(args.config):
            line = train_overrides(argparse.Namespace(**{**vars(args), "config": None}))
            if exc.key not in line:  # not overridden by a flag or --set
                raise ConfigError(f"{exc} (set in {args.config})", exc.key) from None
        raise


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
        "stop_confidence",
        "stop_min_epochs",
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


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _reading(root: str | None):
    """The store to read, opened read-only: a read never creates a store, and a missing one
    is an error that says where ganwatch looked."""
    from ganwatch.store import RunStore, resolve_store_root

    try:
        return RunStore(root, read_only=True)
    except FileNotFoundError:
        raise ValueError(
            f"no run store at {resolve_store_root(root)}: train a run first, or name the store "
            "with --store DIR (or $GANWATCH_STORE)"
        ) from None


def invocation() -> str:
    """How the user ran ganwatch, so that a suggested command works when pasted: ``ganwatch``
    when that is on the PATH, else the path they typed (``.venv/bin/ganwatch``), else
    ``python -m ganwatch``."""
    import shutil
    import sys

    typed = sys.argv[0] if sys.argv else ""
    if Path(typed).name != "ganwatch":
        return f"{Path(sys.executable).name} -m ganwatch"
    found = shutil.which("ganwatch")
    if found and Path(found).resolve() == Path(typed).resolve():
        return "ganwatch"
    return typed


def _finished_message(result, store) -> str:
    me = invocation()
    return (
        f"run {result.run_id} {result.status}: {_count(result.epochs_done, 'epoch')}, "
        f"{_count(result.step, 'step')}\n"
        f"  store:  {store.db_path}\n"
        f"  images: {result.run_dir}\n"
        f"  next:   {me} show {result.run_id} --store {store.root}   |   "
        f"{me} export {result.run_id} --store {store.root} --out export-{result.run_id}"
    )


def _exit_code(status: str) -> int:
    return 0 if status == "finished" else 1


def _leader_store(path: str | None, shards: Any) -> contextlib.AbstractContextManager:
    """The run store, opened by rank 0 alone: under torchrun the other ranks train without
    one (and show nothing)."""
    from ganwatch.store import RunStore

    return RunStore(path) if shards.leader else contextlib.nullcontext()


def cmd_train(args: argparse.Namespace) -> int:
    """Under torchrun every rank trains; rank 0 alone opens the store and says where it is."""
    from ganwatch.training import train
    from ganwatch.training.distributed import exit_rank, process_group

    config = _config_of(args)
    with process_group(config.device) as shards, _leader_store(args.store, shards) as store:
        result = train(config, store, name=args.name, quiet=args.quiet)
        if store is not None:
            print(_finished_message(result, store))
    return exit_rank(_exit_code(result.status), shards)


def cmd_resume(args: argparse.Namespace) -> int:
    from ganwatch.training import resume
    from ganwatch.training.distributed import exit_rank, process_group

    with process_group() as shards, _leader_store(args.store, shards) as store:
        result = resume(store, args.run, epochs=args.epochs, quiet=args.quiet)
        if store is not None:
            print(_finished_message(result, store))
    return exit_rank(_exit_code(result.status), shards)


def cmd_runs(args: argparse.Namespace) -> int:
    from ganwatch.export import runs_table

    with _reading(args.store) as store:
        runs = store.list_runs()
        print(runs_table(store, runs) if runs else f"no runs in {store.db_path}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from ganwatch.export import run_summary

    with _reading(args.store) as store:
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
        for k, v in (
            ("data_dir", args.data_dir),
            ("device", args.device),
            ("seed", args.seed),
            ("epochs", args.epochs),
        )
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

    with _reading(args.store) as store:
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
        engine=args.engine,
        address=args.address,
    )


def cmd_export(args: argparse.Namespace) -> int:
    from ganwatch.export import export_run

    with _reading(args.store) as store:
        for path in export_run(store, args.run, Path(args.out)):
            print(path)
    return 0


def cmd_metrics(args: argparse.Namespace) -> int:
    import json

    from ganwatch.metrics.compute import compute
    from ganwatch.metrics.inputs import load_samples

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
    from ganwatch.metrics.classifier_training import train_and_cache_classifier
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


def cmd_validate(args: argparse.Namespace) -> int:
    from ganwatch.validation.command import validate

    return validate(
        args.action,
        args.out,
        jobs=args.jobs,
        recipes=args.recipes,
        seeds=args.seeds,
        data_dir=args.data_dir,
        write_docs=args.write_docs,
        record=args.record,
    )
