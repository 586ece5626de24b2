"""``ganwatch metrics``: files and dataset names in, the documented JSON keys out."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ganwatch.cli import main
from ganwatch.data.toy import mode_centres


def run_json(capsys, *argv: str) -> dict:
    assert main(["metrics", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def features(tmp_path):
    rng = np.random.default_rng(0)
    real = rng.normal(size=(600, 8)).astype(np.float32)
    same = rng.normal(size=(600, 8)).astype(np.float32)
    shifted = same + 3.0
    paths = {}
    for name, array in (("real", real), ("same", same), ("shifted", shifted)):
        paths[name] = tmp_path / f"{name}.npy"
        np.save(paths[name], array)
    return paths


def test_feature_arrays_are_used_as_given(capsys, features):
    ref, same, far = (str(features[k]) for k in ("real", "same", "shifted"))
    good = run_json(capsys, "prdc", "--reference", ref, "--samples", same)
    bad = run_json(capsys, "prdc", "--reference", ref, "--samples", far)
    assert {"precision", "recall", "density", "coverage"} <= set(good)
    assert good["precision"] > 0.7 and bad["precision"] < 0.05
    assert run_json(capsys, "fid", "--reference", ref, "--samples", same)["fid"] < 0.5
    assert run_json(capsys, "fid", "--reference", ref, "--samples", far)["fid"] > 50
    kid = run_json(capsys, "kid", "--reference", ref, "--samples", far)
    assert kid["kid"] > 1 and "kid_std" in kid
    ndb = run_json(capsys, "ndb", "--reference", ref, "--samples", far, "--bins", "10")
    assert {"ndb", "ndb_k", "js", "different_bins", "z"} <= set(ndb)
    assert ndb["ndb"] >= 5 and len(ndb["z"]) == 10


def test_ndb_chart_and_plain_output(capsys, features, tmp_path):
    chart = tmp_path / "bins.png"
    code = main(
        [
            "metrics",
            "ndb",
            "--reference",
            str(features["real"]),
            "--samples",
            str(features["same"]),
            "--bins",
            "8",
            "--chart",
            str(chart),
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "ndb_k: " in out and "js: " in out
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_toy_modes_against_the_named_ring(capsys, tmp_path):
    centres = mode_centres("ring")
    rng = np.random.default_rng(1)
    two_modes = centres[rng.integers(0, 2, 500)] + rng.normal(scale=0.01, size=(500, 2))
    path = tmp_path / "two.npy"
    np.save(path, two_modes.astype(np.float32))
    result = run_json(capsys, "modes", "--reference", "ring", "--samples", str(path))
    assert result["modes_captured"] == 2 and result["high_quality"] > 0.9


def test_bad_inputs_are_clear_errors(capsys, tmp_path, features):
    (tmp_path / "x.txt").write_text("1 2 3")
    assert (
        main(
            [
                "metrics",
                "fid",
                "--reference",
                str(tmp_path / "x.txt"),
                "--samples",
                str(features["same"]),
            ]
        )
        == 2
    )
    assert "expected a .npy file or a dataset name" in capsys.readouterr().err
    np.save(tmp_path / "flat.npy", np.zeros(5))
    assert (
        main(
            [
                "metrics",
                "fid",
                "--reference",
                str(tmp_path / "flat.npy"),
                "--samples",
                str(features["same"]),
            ]
        )
        == 2
    )
    assert "flat.npy: expected images" in capsys.readouterr().err
    np.save(tmp_path / "wide.npy", np.zeros((10, 3), np.float32))
    assert (
        main(
            [
                "metrics",
                "prdc",
                "--reference",
                str(features["real"]),
                "--samples",
                str(tmp_path / "wide.npy"),
            ]
        )
        == 2
    )
    assert "must describe the same kind of data" in capsys.readouterr().err
    assert (
        main(
            [
                "metrics",
                "fid",
                "--reference",
                str(tmp_path / "none.npy"),
                "--samples",
                str(features["same"]),
            ]
        )
        == 2
    )
    assert "none.npy" in capsys.readouterr().err


@pytest.mark.slow
def test_images_go_through_the_classifier(
    capsys, monkeypatch, tmp_path, trained_classifier, mnist_test, real_mnist_dir
):
    """Real test digits (uint8 pixels) against the named training split: all classes."""
    monkeypatch.setenv("GANWATCH_CACHE_DIR", str(trained_classifier.cache_root))
    path = tmp_path / "digits.npy"
    np.save(path, mnist_test.images[:2000])
    two = tmp_path / "two.npy"
    np.save(two, mnist_test.images[np.isin(mnist_test.labels, [0, 1])][:1000])
    data_dir = str(real_mnist_dir)
    modes = run_json(
        capsys, "modes", "--reference", "mnist", "--samples", str(path), "--data-dir", data_dir
    )
    assert modes["classes_covered"] == 10 and modes["class_kl"] < 0.02
    collapsed = run_json(
        capsys, "modes", "--reference", "mnist", "--samples", str(two), "--data-dir", data_dir
    )
    assert collapsed["classes_covered"] == 2 and collapsed["class_kl"] > 1
    fid_real = run_json(
        capsys, "fid", "--reference", "mnist", "--samples", str(path), "--data-dir", data_dir
    )["fid"]
    fid_two = run_json(
        capsys, "fid", "--reference", "mnist", "--samples", str(two), "--data-dir", data_dir
    )["fid"]
    assert fid_real < fid_two / 10
    prdc = run_json(
        capsys, "prdc", "--reference", "mnist:test", "--samples", str(path), "--data-dir", data_dir
    )
    assert prdc["precision"] > 0.9 and prdc["recall"] > 0.9
