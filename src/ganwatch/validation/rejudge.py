"""Judging a built corpus again, from the generators it kept, without training again.

The judge's rules are what every reported number is measured against, so they get revised
(``judge.JUDGE_VERSION``). Training the corpus again for that takes an hour and a half on two
cores; drawing and judging 10,000 samples from each kept generator takes a few minutes. The
runs are unchanged, so the Monitor's records and verdicts in the store stay as they were.
Runs built before generators were kept (no ``generators`` folder for them) keep the judge's
numbers and are only labelled again from them (``relabelled``), and counted apart, so a
partial re-judge is never mistaken for a full one.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from ganwatch.atomic import write_atomically
from ganwatch.validation.judge import JudgeClassifier, Truth, judge_generator, load_judge
from ganwatch.validation.runner import (
    CORPUS_FILE,
    CorpusRun,
    one_thread,
    read_corpus,
    snapshot_path,
)


@dataclass(frozen=True)
class Rejudged:
    """What a re-judge did: runs judged again, and runs whose numbers were kept (no
    generators) and only labelled again."""

    judged: int
    kept: int
    changed_labels: int


def relabelled(run: CorpusRun) -> CorpusRun:
    """``run`` with each truth labelled again from its numbers by the current rules."""
    return replace(run, truths={e: truth.relabelled() for e, truth in run.truths.items()})


def _generator_like(config_values: dict) -> tuple[torch.nn.Module, int]:
    """A freshly built generator of the run's configuration, for its snapshots to load into,
    and the latent size its noise has."""
    from ganwatch.config import build_config
    from ganwatch.data import load_dataset
    from ganwatch.training.preview import evaluation_generator
    from ganwatch.training.state import new_state

    config = build_config(config_values)
    sample = load_dataset(config.dataset, size=2, data_dir=config.data_dir)
    state = new_state(config, sample.shape, torch.device("cpu"), sample.name)
    # Left in training mode, as the trainer samples it: batch norm then normalises each batch
    # of noise by its own statistics, and the judge's truths were drawn that way.
    return evaluation_generator(state), state.latent_dim


def rejudge_run(
    out: Path, run: CorpusRun, config_values: dict, judge: JudgeClassifier | None
) -> CorpusRun | None:
    """``run`` with every kept epoch judged again, or None when it kept no generators.

    A divergence is a truth about the losses, not a generator's samples: it stays, and a run
    that diverged before its first evaluation has nothing to judge again.
    """
    judged = [e for e, truth in sorted(run.truths.items()) if truth.label != "divergence"]
    kept = {e: snapshot_path(out, run.recipe, run.seed, e) for e in judged}
    kept = {e: path for e, path in kept.items() if path.is_file()}
    if not judged:
        return run
    if not kept:
        return None
    generator, latent_dim = _generator_like(config_values)
    truths: dict[int, Truth] = dict(run.truths)
    for epoch, path in kept.items():
        generator.load_state_dict(torch.load(path, weights_only=True))
        truths[epoch] = judge_generator(
            generator, latent_dim, config_values["dataset"], epoch, judge
        )
    return replace(run, truths=truths)


def rejudge_corpus(out: str | Path, data_dir: str | None = None) -> Rejudged:
    """Judge every run of the corpus in ``out`` again with the current judge; rewrite its file.

    The file is replaced whole, so run this when no build of the same corpus is appending to
    it (a run a build finishes meanwhile would be lost from the file, though not its store).
    """
    from ganwatch.store import RunStore

    out = Path(out)
    runs = read_corpus(out)
    if not runs:
        raise ValueError(f"{out}: no corpus to judge again; build it first")
    judge = None
    rewritten: list[CorpusRun] = []
    judged = changed = 0
    with RunStore(out / "store", read_only=True) as store, one_thread():
        for run in runs:
            values = dict(store.get_run(run.run_id).config)
            if data_dir:
                values["data_dir"] = data_dir
            if judge is None and values["dataset"] == "mnist":
                judge = load_judge(values.get("data_dir"))
            new = rejudge_run(out, run, values, judge if values["dataset"] == "mnist" else None)
            if new is not None:
                judged += 1
                print(f"judged again: {run.name}", file=sys.stderr, flush=True)
            new = new or relabelled(run)
            changed += sum(new.truths[e].label != t.label for e, t in run.truths.items())
            rewritten.append(new)
    text = "".join(r.to_json() + "\n" for r in rewritten).encode()
    # One rename: an interrupted re-judge leaves the old truths whole.
    write_atomically(out / CORPUS_FILE, lambda handle: handle.write(text))
    return Rejudged(judged, len(runs) - judged, changed)
