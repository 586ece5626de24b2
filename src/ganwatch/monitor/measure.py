"""What the Monitor measures after an epoch, against a reference prepared once.

The reference (a dataset name, a ganwatch Dataset, or an array of real samples) becomes a
:class:`~ganwatch.metrics.suite.MetricSuite` on first use. Samples come from the loop, or are
drawn from the generator with fixed noise. The first measurement at a sample count also
measures held-out real data at that count (the bands the detectors judge against) and hands
them to ``on_bands`` to be recorded.
"""

from __future__ import annotations

import hashlib
import io
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from ganwatch.metrics.bands import Bands
from ganwatch.metrics.suite import MetricSuite

#: Generated samples measured per evaluation when the caller does not say.
DEFAULT_EVAL_SAMPLES = {"cuda": 2048, "cpu": 512}
_DRAW_BATCH = 512


def _say(text: str) -> None:
    print(f"ganwatch: {text}", file=sys.stderr, flush=True)


class Measurement:
    """The reference side of a run's metrics, and how one epoch's samples are measured."""

    def __init__(
        self,
        reference: Any,
        *,
        eval_samples: int | None = None,
        ndb_every: int = 5,
        data_dir: str | None = None,
        say: Callable[[str], None] = _say,
        options: dict[str, Any] | None = None,
    ) -> None:
        self.source, self.eval_samples = reference, eval_samples
        self.options = dict(options or {})  # value_range, labels, classifier
        self.ndb_every, self.data_dir, self.say = ndb_every, data_dir, say
        self.suite: MetricSuite | None = None
        self.bands: Bands | None = None
        self.measured = 0
        self._from_disk: set[str] = set()  # reference-side entries the disk cache gave
        self._disk_key: str | None = None  # the suite's cache file name (hashing is not free)

    def prepared(self) -> MetricSuite:
        """The metric suite of the reference, prepared on first use (a dataset name is loaded;
        a ganwatch Dataset or a name also tells which classifier and toy modes apply)."""
        if self.suite is None:
            source, dataset = self.source, None
            if isinstance(source, str):
                from ganwatch.data import load_dataset

                dataset = source
                source = load_dataset(source, data_dir=self.data_dir).data
            elif hasattr(source, "data") and hasattr(source, "kind"):  # a ganwatch Dataset
                dataset, source = source.name, source.data
            self.suite = shared_suite(source, dataset, self.data_dir, **self.options)
        return self.suite

    def toy_name(self) -> str | None:
        """The toy mixture the reference names, for scatter pictures (None otherwise)."""
        from ganwatch.catalog.datasets import is_toy

        source = self.source
        name = source if isinstance(source, str) else getattr(source, "name", None)
        return name if is_toy(name) else None

    def measure(
        self,
        samples: Any,
        generator: torch.nn.Module | None,
        latent_dim: int | None,
        on_bands: Callable[[Bands], None],
    ) -> tuple[dict[str, float], Any]:
        """The epoch's metric values and NDB result (empty without samples or a generator)."""
        if samples is None:
            if generator is None:
                return {}, None
            samples = self.draw(generator, latent_dim)
        n = self.prepare(len(samples), on_bands)
        # Nothing measured may move the user's global random stream (see ``prepare``).
        with torch.random.fork_rng(devices=[]):
            values, ndb = self.suite.measure(samples[:n], self.measured % self.ndb_every == 0)
        if self.measured == 0:
            self._keep_prepared()
        self.measured += 1
        return values, ndb

    def _keep_prepared(self) -> None:
        """After the first measurement everything the reference needs exists: write it to
        the disk cache when it holds more than the cache gave (``prepared_cache``)."""
        from ganwatch.metrics.prepared_cache import MODELS, cache_key, save_from

        if set(self.suite._cache) - set(MODELS) - self._from_disk:
            save_from(self.suite, self._disk_key or cache_key(self.suite))

    def prepare(self, count: int, on_bands: Callable[[Bands], None]) -> int:
        """Prepare the reference (once) and what held-out real data scores at ``count``
        samples; hand new bands to ``on_bands``. Returns the count that will be measured."""
        first = self.suite is None
        started = time.perf_counter()
        if first:
            self.say("preparing the reference data for the metrics (once per run) ...")
        # Models built to load a classifier draw their initial weights from the global random
        # stream; the user's seeded loop must not see that.
        with torch.random.fork_rng(devices=[]):
            suite = self.prepared()
            if first and not suite._cache:  # a fresh suite: take what another process prepared
                from ganwatch.metrics.prepared_cache import cache_key, load_into

                self._disk_key = cache_key(suite)
                if load_into(suite, self._disk_key):
                    self._from_disk = set(suite._cache)
            n = suite.evaluation_count(count)
            bands = suite.band(n)
        if bands is not None and bands != self.bands:
            self.bands = bands
            on_bands(bands)
        if first:
            self.say(f"reference ready in {time.perf_counter() - started:.1f} s")
        return n

    def default_count(self) -> int:
        """Samples measured per evaluation when drawn from a generator on this machine."""
        device = "cuda" if torch.cuda.is_available() else "cpu"
        return self.eval_samples or DEFAULT_EVAL_SAMPLES[device]

    def draw(self, generator: torch.nn.Module, latent_dim: int | None) -> torch.Tensor:
        """Evaluation samples from fixed noise (the same every epoch), on the CPU."""
        latent_dim = latent_dim or getattr(generator, "latent_dim", None)
        if latent_dim is None:
            raise ValueError(
                "end_epoch(generator=...) needs latent_dim= (or a generator "
                "with a latent_dim attribute)"
            )
        device = next(generator.parameters()).device
        n = self.eval_samples or DEFAULT_EVAL_SAMPLES.get(device.type, 512)
        rng = torch.Generator(device=device).manual_seed(12345)
        parts = []
        with torch.no_grad():
            for start in range(0, n, _DRAW_BATCH):
                size = min(_DRAW_BATCH, n - start)
                noise = torch.randn(size, latent_dim, device=device, generator=rng)
                parts.append(generator(noise).float().cpu())
        return torch.cat(parts)


_SHARED: dict[tuple, MetricSuite] = {}
_SHARED_LIMIT = 4  # suites kept per process (each holds up to ~18,000 real samples)


def _digest(values: Any) -> str:
    if values is None:
        return "-"
    array = np.ascontiguousarray(
        values.detach().cpu().numpy() if isinstance(values, torch.Tensor) else np.asarray(values)
    )
    return f"{array.shape}{array.dtype}" + hashlib.sha1(array.tobytes()).hexdigest()


def shared_suite(
    data: Any,
    dataset: str | None,
    data_dir: str | None,
    value_range: str = "auto",
    labels: Any = None,
    classifier: Callable | None = None,
) -> MetricSuite:
    """The suite of one reference, prepared once per process: runs that measure against the
    same real data (a sweep's cells, a reproduce's presets, a test session) share the
    classifier, the bins, the features and the bands. Keyed by the data's content."""
    key = (dataset, data_dir, value_range, _digest(data), _digest(labels), id(classifier))
    if key not in _SHARED:
        if len(_SHARED) >= _SHARED_LIMIT:
            _SHARED.pop(next(iter(_SHARED)))
        _SHARED[key] = MetricSuite.prepare(
            data,
            dataset=dataset,
            data_dir=data_dir,
            value_range=value_range,
            labels=labels,
            classifier=classifier,
        )
    return _SHARED[key]


def sample_picture(samples: Any, toy: str | None = None) -> np.ndarray | None:
    """The epoch's picture from a loop's samples: the first 64 images as an 8x8 grid, or the
    points as a scatter (over the toy mixture's modes when known); None for other data."""
    from ganwatch.images import image_grid, scatter_image
    from ganwatch.metrics.inputs import as_float

    x = as_float(samples)
    if x.dim() == 4 and x.shape[1] in (1, 3):
        return image_grid(x[:64], nrow=8)
    if x.dim() == 3:
        return image_grid(x[:64].unsqueeze(1), nrow=8)
    if x.dim() == 2 and x.shape[1] == 2:
        from ganwatch.data.toy import mode_centres

        return scatter_image(x.numpy(), reference_points=mode_centres(toy) if toy else None)
    return None


def png_to_array(png: bytes) -> np.ndarray:
    """A PNG's pixels as an RGB array (what the store saves)."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        return np.asarray(image.convert("RGB"))
