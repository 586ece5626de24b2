"""Building the corpus: train each recipe and seed with ganwatch's trainer, judge every epoch.

Runs go into one store (``DIR/store``); each finished run adds one line to
``DIR/corpus.jsonl`` with its recipe, seed, half, run id, status and the judge's truth per
epoch, so building again after an interruption trains only what is missing. The generator
of every judged epoch is kept in ``DIR/generators`` (``snapshot_path``), so a changed judge
can be run again on the same generators (``validation.rejudge``) without training. Runs are
independent and deterministic (each sets its seeds and one torch thread), so ``jobs`` of them
may train at once in separate processes with the same results.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ganwatch.validation.corpus import Recipe, split_of
from ganwatch.validation.judge import Truth

CORPUS_FILE = "corpus.jsonl"
SNAPSHOT_DIR = "generators"


def snapshot_path(out: str | Path, recipe: str, seed: int, epoch: int) -> Path:
    """Where the corpus in ``out`` keeps the generator of one run's evaluated epoch."""
    return Path(out) / SNAPSHOT_DIR / recipe / f"seed={seed}" / f"epoch_{epoch:04d}.pt"


@dataclass
class CorpusRun:
    """One trained run of the corpus and the judge's truth after each of its epochs."""

    recipe: str
    intent: str
    seed: int
    run_id: int
    status: str
    seconds: float
    truths: dict[int, Truth] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.recipe}/seed={self.seed}"

    @property
    def split(self) -> str:
        """The half this run belongs to, from its seed: a corpus built under an older split
        is read under the current one."""
        return split_of(self.seed)

    def to_json(self) -> str:
        data = {k: v for k, v in self.__dict__.items() if k != "truths"}
        data["truths"] = {str(e): t.to_dict() for e, t in sorted(self.truths.items())}
        return json.dumps(data)

    @classmethod
    def from_json(cls, line: str) -> CorpusRun:
        data = json.loads(line)
        data.pop("split", None)  # written by builds before the split was derived from seeds
        truths = {int(e): Truth(**t) for e, t in data.pop("truths").items()}
        return cls(**data, truths=truths)


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Run on one torch thread, as every corpus run does: the thread count changes how sums
    round, and a re-judge must draw the very samples the build judged."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)  # in-process (jobs=1): leave the caller's setting


def train_and_judge(recipe: Recipe, seed: int, store_root: str, data_dir: str | None) -> CorpusRun:
    """Train one run of ``recipe`` and judge its generator after every epoch."""
    with one_thread():
        return _train_and_judge(recipe, seed, store_root, data_dir)


def _train_and_judge(recipe: Recipe, seed: int, store_root: str, data_dir: str | None) -> CorpusRun:
    from ganwatch.config import build_config
    from ganwatch.store import RunStore
    from ganwatch.training import train
    from ganwatch.training.checkpoint import save_checkpoint
    from ganwatch.training.preview import evaluation_generator
    from ganwatch.validation.judge import judge_generator, load_judge

    values = recipe.config(seed)
    if data_dir:
        values["data_dir"] = data_dir
    config = build_config(values)
    judge = load_judge(data_dir) if config.dataset == "mnist" else None
    truths: dict[int, Truth] = {}

    def on_epoch(state) -> None:
        generator = evaluation_generator(state)
        truths[state.epoch] = judge_generator(
            generator, state.latent_dim, config.dataset, state.epoch, judge
        )
        # Written whole or not at all: a re-judge must never load half a generator.
        path = snapshot_path(Path(store_root).parent, recipe.name, seed, state.epoch)
        save_checkpoint(path, generator.state_dict())

    started = time.perf_counter()
    with RunStore(store_root) as store:
        result = train(
            config, store, name=f"{recipe.name}/seed={seed}", quiet=True, on_epoch=on_epoch
        )
    if result.status == "diverged":
        truths[result.epochs_done] = Truth("divergence", float("nan"), 0, 0, float("nan"))
    return CorpusRun(
        recipe.name,
        recipe.intent,
        seed,
        result.run_id,
        result.status,
        time.perf_counter() - started,
        truths,
    )


def read_corpus(out: Path) -> list[CorpusRun]:
    path = Path(out) / CORPUS_FILE
    if not path.is_file():
        return []
    return [CorpusRun.from_json(line) for line in path.read_text().splitlines() if line.strip()]


def build_corpus(
    out: str | Path,
    recipes: Sequence[Recipe],
    seeds: Iterable[int],
    *,
    jobs: int = 1,
    data_dir: str | None = None,
) -> list[CorpusRun]:
    """Train every (recipe, seed) not yet in ``out``; return the whole corpus."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    done = {(run.recipe, run.seed) for run in read_corpus(out)}
    todo = [(r, s) for r in recipes for s in seeds if (r.name, s) not in done]
    store = str(out / "store")
    say = _progress(len(todo))
    if jobs <= 1:
        for r, s in todo:
            _append(out, say(train_and_judge(r, s, store, data_dir)))
        return read_corpus(out)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(jobs, mp_context=context) as pool:
        futures = [pool.submit(train_and_judge, r, s, store, data_dir) for r, s in todo]
        for future in as_completed(futures):
            _append(out, say(future.result()))
    return read_corpus(out)


def _append(out: Path, run: CorpusRun) -> None:
    with (out / CORPUS_FILE).open("a") as handle:
        handle.write(run.to_json() + "\n")


def _progress(total: int) -> Any:
    count = {"done": 0}

    def say(run: CorpusRun) -> CorpusRun:
        count["done"] += 1
        last = run.truths[max(run.truths)].label if run.truths else "-"
        print(
            f"[{count['done']}/{total}] {run.name} {run.status}: last truth {last}, "
            f"{run.seconds:.0f} s",
            file=sys.stderr,
            flush=True,
        )
        return run

    return say
