"""Finding and downloading dataset files, against a local HTTP server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import http.server
import threading
from pathlib import Path

import numpy as np
import pytest

from ganwatch.data import (
    DataNotFoundError,
    DownloadError,
    dataset_dir,
    ensure_files,
    read_idx,
)

ALL_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


def _md5s(folder: Path) -> dict[str, str]:
    return {name: hashlib.md5((folder / name).read_bytes()).hexdigest() for name in ALL_FILES}


@pytest.fixture
def served(http_root, make_idx_folder):
    """Synthetic MNIST files served at <base>/good/; returns (base URL, their MD5s, arrays)."""
    base, root = http_root
    arrays = make_idx_folder(root / "good")
    return base, _md5s(root / "good"), arrays


# --- where files are looked for -------------------------------------------------------------


def test_dataset_dir_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_env) -> None:
    assert dataset_dir("mnist") == isolated_env / "mnist"
    monkeypatch.setenv("GANWATCH_DATA_DIR", str(tmp_path / "env"))
    assert dataset_dir("mnist") == tmp_path / "env"
    assert dataset_dir("mnist", tmp_path / "arg") == tmp_path / "arg"


def test_dataset_dir_prefers_named_subfolder(tmp_path: Path) -> None:
    (tmp_path / "kmnist").mkdir()
    assert dataset_dir("kmnist", tmp_path) == tmp_path / "kmnist"
    assert dataset_dir("mnist", tmp_path) == tmp_path


def test_folder_named_after_other_dataset_is_not_used(tmp_path: Path, make_idx_folder) -> None:
    make_idx_folder(tmp_path / "mnist")
    assert dataset_dir("mnist", tmp_path / "mnist") == tmp_path / "mnist"
    assert dataset_dir("kmnist", tmp_path / "mnist") == tmp_path / "mnist" / "kmnist"
    with pytest.raises(DataNotFoundError):
        ensure_files("kmnist", tmp_path / "mnist")


def test_existing_files_used_without_download(tmp_path: Path, make_idx_folder) -> None:
    make_idx_folder(tmp_path / "d", gz=False)  # uncompressed names are accepted too
    assert ensure_files("mnist", tmp_path / "d", mirrors=[]) == tmp_path / "d"


def test_explicit_dir_without_files_names_files_and_folder(tmp_path: Path, served) -> None:
    base, md5s, _ = served
    folder = tmp_path / "mine"
    folder.mkdir()
    with pytest.raises(DataNotFoundError) as info:
        ensure_files("mnist", folder, mirrors=[base + "good/"], md5s=md5s)
    message = str(info.value)
    assert str(folder) in message
    assert all(name in message for name in ALL_FILES)
    assert list(folder.iterdir()) == []  # a user folder is never downloaded into


def test_env_dir_without_files_raises(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GANWATCH_DATA_DIR", str(tmp_path))
    with pytest.raises(DataNotFoundError, match="GANWATCH_DATA_DIR"):
        ensure_files("fashion-mnist", files=["t10k-images-idx3-ubyte.gz"])


# --- downloads into the cache ---------------------------------------------------------------


def test_download_writes_verified_files_into_cache(served, isolated_env) -> None:
    base, md5s, arrays = served
    folder = ensure_files("mnist", mirrors=[base + "good/"], md5s=md5s)
    assert folder == isolated_env / "mnist"
    assert sorted(p.name for p in folder.iterdir()) == sorted(ALL_FILES)
    assert _md5s(folder) == md5s
    np.testing.assert_array_equal(read_idx(folder / ALL_FILES[0]), arrays["train"][0])
    # Second call finds the files and needs no server.
    assert ensure_files("mnist", mirrors=[], md5s=md5s) == folder


def test_only_requested_files_are_downloaded(served, isolated_env) -> None:
    base, md5s, _ = served
    folder = ensure_files("mnist", files=ALL_FILES[2:], mirrors=[base + "good/"], md5s=md5s)
    assert sorted(p.name for p in folder.iterdir()) == sorted(ALL_FILES[2:])


def test_md5_mismatch_raises_and_leaves_nothing(served, isolated_env) -> None:
    base, md5s, _ = served
    wrong = dict(md5s, **{ALL_FILES[0]: "0" * 32})
    with pytest.raises(DownloadError) as info:
        ensure_files("mnist", mirrors=[base + "good/"], md5s=wrong)
    message = str(info.value)
    assert ALL_FILES[0] in message
    assert base + "good/" + ALL_FILES[0] in message
    assert "0" * 32 in message and md5s[ALL_FILES[0]] in message
    assert list((isolated_env / "mnist").iterdir()) == []  # no file, no temp file


def test_first_mirror_404_then_second(served, isolated_env) -> None:
    base, md5s, _ = served
    folder = ensure_files("mnist", mirrors=[base + "missing/", base + "good"], md5s=md5s)
    assert _md5s(folder) == md5s


def test_mirrors_from_env(served, monkeypatch: pytest.MonkeyPatch) -> None:
    base, md5s, _ = served
    monkeypatch.setenv("GANWATCH_MIRRORS", f"{base}missing/, {base}good/")
    assert _md5s(ensure_files("mnist", md5s=md5s)) == md5s


def test_unreachable_mirrors_name_missing_files_and_folder(dead_url, isolated_env) -> None:
    with pytest.raises(DataNotFoundError) as info:
        ensure_files("mnist", mirrors=[dead_url, dead_url + "x/"], timeout=5)
    message = str(info.value)
    folder = isolated_env / "mnist"
    assert str(folder) in message
    assert all(name in message for name in ALL_FILES)
    assert "--data-dir" in message and "GANWATCH_DATA_DIR" in message
    assert dead_url in message
    assert list(folder.iterdir()) == []


def test_download_disabled_raises(isolated_env, served) -> None:
    base, md5s, _ = served
    with pytest.raises(DataNotFoundError, match="download disabled"):
        ensure_files("mnist", mirrors=[base + "good/"], md5s=md5s, download=False)
    assert not (isolated_env / "mnist").exists()


class _ShortBodyHandler(http.server.BaseHTTPRequestHandler):
    """Promises 100,000 bytes, sends 10, then hangs up: a download cut mid-stream."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "100000")
        self.end_headers()
        self.wfile.write(b"\x1f\x8b" + b"\x00" * 8)
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_cut_download_leaves_no_partial_file(isolated_env) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ShortBodyHandler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        with pytest.raises(DataNotFoundError, match="closed after 10 of 100000 bytes"):
            ensure_files("mnist", mirrors=[url], timeout=5)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert list((isolated_env / "mnist").iterdir()) == []
