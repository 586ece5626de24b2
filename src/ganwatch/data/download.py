"""Find a dataset's IDX files on disk, and download them into the cache when they are missing.

Only the cache folder is ever written to. A folder the user named (``--data-dir`` or
``$GANWATCH_DATA_DIR``) is taken as "my data is here": if it lacks files, that is a mistake to
report, not a reason to go online and fill someone's data folder behind their back.

Downloads are verified against the registry MD5s and written atomically (temp file in the
same folder, fsync, ``os.replace``), so an interrupted or corrupt download never leaves a file
that a later run would take for good data. Local files are not checksummed: a folder may
legitimately hold a re-packed subset whose MD5 differs from the official one.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

from .sources import SOURCES, get_source

__all__ = [
    "DataNotFoundError",
    "DownloadError",
    "cache_root",
    "dataset_dir",
    "ensure_files",
    "find_file",
]

DATA_DIR_ENV = "GANWATCH_DATA_DIR"
CACHE_DIR_ENV = "GANWATCH_CACHE_DIR"
MIRRORS_ENV = "GANWATCH_MIRRORS"
DOWNLOAD_TIMEOUT_S = 30.0
_CHUNK = 1 << 16

PathLike = str | os.PathLike[str]


class DataNotFoundError(FileNotFoundError):
    """Dataset files are missing and could not be downloaded; the message says where to put them."""


class DownloadError(OSError):
    """A download arrived but is not the expected file (MD5 mismatch)."""


def cache_root() -> Path:
    """Root of the download cache: ``$GANWATCH_CACHE_DIR`` or ``~/.cache/ganwatch``."""
    override = os.environ.get(CACHE_DIR_ENV)
    return Path(override).expanduser() if override else Path.home() / ".cache" / "ganwatch"


def _user_dir(data_dir: PathLike | None) -> Path | None:
    """The folder the user chose (argument first, then the env var), or None for the cache."""
    if data_dir is not None:
        return Path(data_dir).expanduser()
    env = os.environ.get(DATA_DIR_ENV)
    return Path(env).expanduser() if env else None


def dataset_dir(name: str, data_dir: PathLike | None = None) -> Path:
    """Return the folder where the files of dataset ``name`` are expected.

    Lookup order:

    1. ``data_dir`` (the CLI's ``--data-dir``), if given;
    2. ``$GANWATCH_DATA_DIR``, if set;
    3. the cache, ``<cache root>/<name>``, where the cache root is ``$GANWATCH_CACHE_DIR``
       or ``~/.cache/ganwatch``.

    A folder from 1 or 2 may hold the files directly or in a subfolder named after the
    dataset; ``DIR/<name>/`` wins when it exists, so one ``DIR`` can serve several datasets.
    If ``DIR`` itself is named after a *different* registered dataset (``.../mnist`` while
    asking for ``kmnist``), ``DIR/<name>`` is returned even though it does not exist, so that
    the MNIST files are never silently loaded as another dataset. The returned folder need not
    exist; :func:`ensure_files` reports what is missing.
    """
    base = _user_dir(data_dir)
    if base is None:
        return cache_root() / name
    nested = base / name
    if nested.is_dir():
        return nested
    if base.name != name and base.name in SOURCES:
        return nested
    return base


def find_file(folder: Path, file_name: str) -> Path | None:
    """Return ``folder/file_name``, or its uncompressed twin (name without ``.gz``), or None."""
    candidates = [folder / file_name]
    if file_name.endswith(".gz"):
        candidates.append(folder / file_name.removesuffix(".gz"))
    return next((path for path in candidates if path.is_file()), None)


def _mirror_list(default: Sequence[str], mirrors: Sequence[str] | None) -> list[str]:
    """Mirrors to try: the argument, else ``$GANWATCH_MIRRORS`` (comma-separated), else registry."""
    if mirrors is None:
        env = os.environ.get(MIRRORS_ENV, "")
        mirrors = [url.strip() for url in env.split(",") if url.strip()] or list(default)
    return list(mirrors)


def _join_url(base: str, file_name: str) -> str:
    return base.rstrip("/") + "/" + file_name


def _fetch_to_temp(url: str, folder: Path, file_name: str, timeout: float) -> tuple[Path, str]:
    """Stream ``url`` into a temp file in ``folder``; return (temp path, MD5 of the bytes).

    The temp file lives in the destination folder so that the final ``os.replace`` is an
    atomic rename on the same file system. It is removed here if anything goes wrong.
    """
    handle, temp_name = tempfile.mkstemp(dir=folder, prefix=f".{file_name}.", suffix=".part")
    temp = Path(temp_name)
    digest = hashlib.md5()
    received = 0
    try:
        with os.fdopen(handle, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
            while chunk := resp.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
                received += len(chunk)
            # urllib returns a short body without complaint when the server hangs up early;
            # call that a network failure (try the next mirror), not a checksum failure.
            promised = resp.headers.get("Content-Length")
            if promised is not None and promised.isdigit() and int(promised) != received:
                raise ConnectionError(f"connection closed after {received} of {promised} bytes")
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return temp, digest.hexdigest()


def _download_file(
    file_name: str, folder: Path, mirrors: Sequence[str], md5: str, timeout: float
) -> list[str]:
    """Download one file into ``folder`` from the first mirror that serves the right bytes.

    Returns an empty list on success, else one line per failed mirror (for the error message
    the caller builds). Raises :class:`DownloadError` if every mirror failed and at least one
    of them served bytes with the wrong MD5: that is corruption, not absence, and deserves
    its own error.
    """
    failures: list[str] = []
    mismatches: list[str] = []
    for base in mirrors:
        url = _join_url(base, file_name)
        try:
            temp, found = _fetch_to_temp(url, folder, file_name, timeout)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            # OSError covers URLError/HTTPError and timeouts; ValueError a malformed URL.
            failures.append(f"{url}: {exc}")
            continue
        if found != md5:
            temp.unlink(missing_ok=True)
            mismatches.append(f"{url}: expected MD5 {md5}, got {found}")
            continue
        os.replace(temp, folder / file_name)
        return []
    if mismatches:
        raise DownloadError(
            f"download of {file_name} into {folder} failed the checksum, nothing was kept:\n  "
            + "\n  ".join(mismatches + failures)
        )
    return failures or ["no mirror to try (empty mirror list)"]


def _missing_message(name: str, folder: Path, missing: Sequence[str], why: str) -> str:
    """Say which files to put where, with every way of pointing ganwatch at them."""
    files = "\n".join(f"    {f}" for f in missing)
    return (
        f"{name} data not found in {folder} ({why}); missing:\n{files}\n"
        f"Put these files (gzipped, or uncompressed without the .gz suffix) in one of:\n"
        f"  - {cache_root() / name}  (the download cache; ${CACHE_DIR_ENV} moves its root)\n"
        f"  - a folder DIR passed as --data-dir DIR (files in DIR or in DIR/{name}/)\n"
        f"  - a folder DIR named by ${DATA_DIR_ENV} (same layout)\n"
        f"or set ${MIRRORS_ENV} to comma-separated base URLs that serve them."
    )


def ensure_files(
    name: str,
    data_dir: PathLike | None = None,
    *,
    files: Sequence[str] | None = None,
    mirrors: Sequence[str] | None = None,
    md5s: Mapping[str, str] | None = None,
    download: bool = True,
    timeout: float = DOWNLOAD_TIMEOUT_S,
) -> Path:
    """Return the folder holding the files of dataset ``name``, downloading into the cache.

    ``files`` restricts the check to some of the dataset's files (e.g. one split's two);
    by default all are needed. The folder comes from :func:`dataset_dir`. If it lacks files:

    - a user-chosen folder (``data_dir`` or ``$GANWATCH_DATA_DIR``) raises
      :class:`DataNotFoundError` naming the files and the folder;
    - the cache folder is filled from ``mirrors`` (default: ``$GANWATCH_MIRRORS``, else the
      registry), tried in order, each file checked against ``md5s`` (default: registry).
      Every mirror unreachable raises :class:`DataNotFoundError`; a download with the wrong
      MD5 raises :class:`DownloadError`, and in both cases no partial file is left behind.
    """
    source = get_source(name)
    wanted = list(files) if files is not None else list(source.file_names)
    expected_md5s = dict(source.md5s if md5s is None else md5s)
    folder = dataset_dir(name, data_dir)
    missing = [f for f in wanted if find_file(folder, f) is None]
    if not missing:
        return folder
    if _user_dir(data_dir) is not None:
        why = "a folder you chose; ganwatch only downloads into its cache"
        raise DataNotFoundError(_missing_message(name, folder, missing, why))
    if not download:
        raise DataNotFoundError(_missing_message(name, folder, missing, "download disabled"))

    folder.mkdir(parents=True, exist_ok=True)
    urls = _mirror_list(source.mirrors, mirrors)
    for index, file_name in enumerate(missing):
        failures = _download_file(file_name, folder, urls, expected_md5s[file_name], timeout)
        if failures:
            # Stop at the first file no mirror serves: offline, the rest would fail the same
            # way, one timeout per mirror each.
            why = "download failed"
            message = _missing_message(name, folder, missing[index:], why)
            raise DataNotFoundError(message + "\nDownload attempts:\n  " + "\n  ".join(failures))
    return folder
