"""The prepared reference kept on disk, so that a run's first evaluation is quick in every
process after the first.

Preparing a reference (the features of 10,000 real samples, NDB's k-means bins, the realism
thresholds, the held-out pool and what it scores: the bands) costs seconds that every new
process would pay again: each `ganwatch train`, each sweep cell in its own process, each
user's script. The in-process share (`monitor.measure.shared_suite`) cannot help there.

What is kept is a suite's reference-side state, tensors and plain values only, written with
`torch.save` and read with ``weights_only=True`` (a doctored cache file cannot run code). The
file is named by a digest of everything the state depends on: the reference, held-out and
label tensors, the kind of data, the seed, the value range, the k-means starts, the weights of
the classifier that measures it, and the source of ``ganwatch.metrics`` itself (a change to
any metric's code makes a new file). A suite measured with a user's classifier callable is
never cached: a callable has no content to digest. The classifier and the embedding are not
kept (they are cached or rebuilt by their own code); the probe on the user's labels is kept,
as its weights.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganwatch import __version__
from ganwatch.atomic import write_atomically
from ganwatch.metrics.bands import Band, Bands
from ganwatch.metrics.inputs import IMAGE, View
from ganwatch.metrics.ndb import NDBBins
from ganwatch.metrics.prdc_reference import PreparedReference
from ganwatch.metrics.realism import Typicality

FORMAT = 1  # bump when the encoding below changes
#: Reference-side entries that are models, rebuilt by their own code (the classifier is
#: cached as its own file; the embedding is a seeded construction). The probe on the user's
#: labels is kept, as its weights: the cached probabilities were made with it.
MODELS = ("classifier", "embedding")
_TYPES = {cls.__name__: cls for cls in (View, Typicality, NDBBins, Bands, Band, PreparedReference)}
_REFERENCE, _HELD_OUT = "__reference__", "__held_out__"
_REFERENCE_ROWS = "__reference_rows__"  # the reference reshaped (pixel realism's rows)


class _Unsupported(Exception):
    """A value this cache does not know how to keep (that entry is left out)."""


def cache_dir() -> Path:
    from ganwatch.data.download import cache_root

    return Path(cache_root()) / "prepared"


@functools.lru_cache(maxsize=1)
def _code_digest() -> str:
    """The source of ganwatch.metrics: a change to how anything is measured is a new key."""
    digest = hashlib.sha1()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _tensor_digest(digest: Any, value: torch.Tensor | None) -> None:
    if value is None:
        digest.update(b"-")
        return
    array = np.ascontiguousarray(value.detach().cpu().numpy())
    digest.update(f"{array.shape}{array.dtype}".encode())
    digest.update(array.tobytes())


def cache_key(suite: Any) -> str | None:
    """The digest naming ``suite``'s cache file, or None when it cannot be cached."""
    if suite.classify is not None:
        return None
    digest = hashlib.sha1()
    for part in (FORMAT, __version__, _code_digest(), suite.kind, suite.dataset, suite.seed):
        digest.update(repr(part).encode())
    for part in (suite.value_range, suite.ndb_inits):
        digest.update(repr(part).encode())
    for tensor in (suite.reference, suite.held_out, suite.labels):
        _tensor_digest(digest, tensor)
    if suite.kind == IMAGE:  # its features and classes come from the classifier's weights
        for tensor in suite.classifier().state_dict().values():
            _tensor_digest(digest, tensor)
    return digest.hexdigest()[:24]


def _is_reshaped_reference(value: Any, suite: Any) -> bool:
    """Whether ``value`` is the reference itself under another shape (a view of its
    storage): kept as that shape, not as a second copy of the reference."""
    ref = suite.reference
    return (
        isinstance(value, torch.Tensor)
        and value.dtype == ref.dtype
        and value.numel() == ref.numel()
        and value.data_ptr() == ref.data_ptr()
        and value.is_contiguous()
        and ref.is_contiguous()
    )


def _encode(value: Any, suite: Any) -> Any:
    if value is suite.reference:
        return _REFERENCE
    if _is_reshaped_reference(value, suite):
        return {_REFERENCE_ROWS: list(value.shape)}
    if suite.held_out is not None and value is suite.held_out:
        return _HELD_OUT
    if isinstance(value, np.generic):  # numpy scalars would need pickle's numpy globals
        return value.item()
    if value is None or isinstance(value, bool | int | float | str | torch.Tensor):
        return value
    if isinstance(value, np.ndarray):
        return {"__numpy__": torch.from_numpy(np.ascontiguousarray(value))}
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, suite) for v in value]}
    if isinstance(value, list):
        return [_encode(v, suite) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"__dict__": {k: _encode(v, suite) for k, v in value.items()}}
    if isinstance(value, torch.nn.Sequential) and _is_probe(value):
        linear = value[1]
        return {
            "__probe__": {k: v for k, v in value.state_dict().items()},
            "shape": [linear.in_features, linear.out_features],
        }
    name = type(value).__name__
    if dataclasses.is_dataclass(value) and _TYPES.get(name) is type(value):
        fields = {f.name: _encode(getattr(value, f.name), suite) for f in dataclasses.fields(value)}
        return {"__type__": name, "fields": fields}
    raise _Unsupported(name)


def _decode(value: Any, suite: Any) -> Any:
    if isinstance(value, str) and value == _REFERENCE:
        return suite.reference
    if isinstance(value, str) and value == _HELD_OUT:
        return suite.held_out
    if isinstance(value, list):
        return [_decode(v, suite) for v in value]
    if not isinstance(value, dict):
        return value
    if _REFERENCE_ROWS in value:
        return suite.reference.reshape(value[_REFERENCE_ROWS])
    if "__probe__" in value:
        return _probe_from(value["__probe__"], *value["shape"])
    if "__numpy__" in value:
        return value["__numpy__"].numpy()
    if "__tuple__" in value:
        return tuple(_decode(v, suite) for v in value["__tuple__"])
    if "__dict__" in value:
        return {k: _decode(v, suite) for k, v in value["__dict__"].items()}
    cls = _TYPES[value["__type__"]]
    return cls(**{k: _decode(v, suite) for k, v in value["fields"].items()})


def _is_probe(module: torch.nn.Sequential) -> bool:
    from ganwatch.metrics.embedding import _Standardise

    return (
        len(module) == 2
        and isinstance(module[0], _Standardise)
        and isinstance(module[1], torch.nn.Linear)
    )


def _probe_from(state: dict[str, torch.Tensor], features: int, classes: int) -> torch.nn.Module:
    """The linear probe of ``embedding.linear_probe`` with the weights it was saved with."""
    from ganwatch.metrics.embedding import _Standardise

    probe = torch.nn.Sequential(
        _Standardise(torch.zeros(features), torch.ones(features)),
        torch.nn.Linear(features, classes),
    )
    probe.load_state_dict(state)
    return probe.eval().requires_grad_(False)


def load_into(suite: Any, key: str | None) -> int:
    """Fill ``suite``'s reference-side state from the cache; the entries loaded (0: none).
    A file that cannot be read is removed and the state is prepared afresh."""
    path = cache_dir() / f"{key}.pt"
    if key is None or not path.is_file():
        return 0
    try:
        stored = torch.load(path, weights_only=True)
        entries = {name: _decode(value, suite) for name, value in stored["entries"].items()}
    except Exception as exc:  # a torn or foreign file: prepare again, never fail the run
        warnings.warn(
            f"ignoring the unreadable prepared-reference cache {path}: {exc}", stacklevel=2
        )
        path.unlink(missing_ok=True)
        return 0
    for name, value in entries.items():
        suite._cache.setdefault(name, value)
    return len(entries)


def save_from(suite: Any, key: str | None) -> Path | None:
    """Write ``suite``'s reference-side state to the cache (atomically); its path, or None
    when the suite cannot be cached or the cache folder cannot be written."""
    if key is None:
        return None
    entries = {}
    for name, value in suite._cache.items():
        if name in MODELS:
            continue
        try:
            entries[name] = _encode(value, suite)
        except _Unsupported:
            continue
    payload = {"format": FORMAT, "entries": entries}
    try:
        path = write_atomically(
            cache_dir() / f"{key}.pt", lambda out: torch.save(payload, out), durable=False
        )
    except (OSError, RuntimeError) as exc:
        # A read-only home or a full disk (torch's writer raises RuntimeError): measuring
        # still works, only the next process prepares the reference again.
        warnings.warn(
            f"could not write the prepared-reference cache in {cache_dir()}: {exc}", stacklevel=2
        )
        return None
    return path
