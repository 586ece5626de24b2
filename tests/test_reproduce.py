"""ganwatch reproduce: all five article experiments trained, diagnosed and written up."""

from __future__ import annotations

from ganwatch.cli import main
from ganwatch.config import PRESETS
from ganwatch.store import RunStore


def test_reproduce_writes_the_report(
    tmp_path, monkeypatch, trained_classifier, real_mnist_dir, capsys
):
    monkeypatch.setenv("GANWATCH_CACHE_DIR", str(trained_classifier.cache_root))
    from ganwatch import reproduce as module

    # Tiny runs: the point is the pipeline, not the experiments' outcome.
    real_build = module.build_config
    monkeypatch.setattr(
        module,
        "build_config",
        lambda values: real_build({**values, "epochs": 2, "train_size": 128, "batch_size": 64}),
    )
    store = tmp_path / "store"
    out = tmp_path / "report"
    assert (
        main(
            [
                "reproduce",
                "--out",
                str(out),
                "--store",
                str(store),
                "--quiet",
                "--data-dir",
                str(real_mnist_dir),
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    report = (out / "report.md").read_text()
    for preset in PRESETS:
        assert f"## {preset} (run" in report
        for name in ("losses.png", "grid_first.png", "grid_last.png", "ndb.png", "epochs.csv"):
            assert (out / preset / name).stat().st_size > 0, (preset, name)
    assert "| experiment | the article | ganwatch verdict | agrees |" in report
    assert report.count("Verdict: **") == len(PRESETS)
    with RunStore(store) as runs:
        names = {run.name for run in runs.list_runs()}
        assert names == {f"article-{p}" for p in PRESETS}
        latent = runs.get_run("article-latent-1")
        assert latent.config["latent_dim"] == 1 and latent.config["scale"] == "quick"


def test_agreement_with_the_article_names_a_failure_found_beside_another():
    from ganwatch.reproduce import agreement

    own = {"metric": "metric/pixel_realism", "note": "Few samples are as close ..."}
    also = {"metric": "metric/classes_covered", "note": "(also a sign of mode collapse) Few"}
    both = {"kind": "convergence_failure", "evidence": [own, also]}
    assert agreement("mode_collapse", both) == "both"
    assert agreement("convergence_failure", both) == "yes"
    assert agreement("mode_collapse", {**both, "evidence": [own]}) == "no"
    assert agreement("healthy", both) == "no"
    assert agreement("healthy", None) == "no"


def test_remedy_overrides_turn_a_flag_into_a_config_change():
    import pytest

    from ganwatch.reproduce import first_remedy_flag, remedy_overrides

    assert remedy_overrides("--lr 2e-4", {}) == {"lr": "2e-4"}
    assert remedy_overrides("--latent-dim 128", {}) == {"latent_dim": "128"}
    assert remedy_overrides("--stabilize pacgan", {"stabilize": "ema"}) == {
        "stabilize": "ema,pacgan"
    }
    with pytest.raises(ValueError, match="--bogus"):
        remedy_overrides("--bogus 1", {})
    verdict = {
        "kind": "mode_collapse",
        "remedies": [{"text": "think", "flag": ""}, {"text": "x", "flag": "--loss wgan-gp"}],
    }
    assert first_remedy_flag(verdict) == "--loss wgan-gp"
    assert first_remedy_flag({**verdict, "kind": "healthy"}) is None


def test_reproduce_with_remedy_trains_the_failure_again_with_its_first_remedy(
    tmp_path, monkeypatch, trained_classifier, real_mnist_dir
):
    monkeypatch.setenv("GANWATCH_CACHE_DIR", str(trained_classifier.cache_root))
    from ganwatch import reproduce as module

    real_build = module.build_config
    monkeypatch.setattr(
        module,
        "build_config",
        lambda values: real_build({**values, "epochs": 2, "train_size": 128, "batch_size": 64}),
    )
    with RunStore(tmp_path / "store") as store:
        report = module.reproduce(
            tmp_path / "out",
            store=store,
            presets=("latent-1",),
            overrides={"data_dir": str(real_mnist_dir), "device": "cpu"},
            remedy=True,
            quiet=True,
            log=lambda _: None,
        )
        runs = store.list_runs()
        before = store.get_run("article-latent-1")
        verdict = store.events(before.id, "verdict")[-1]["payload"]
    flag = module.first_remedy_flag(verdict)
    assert flag is not None  # two epochs of latent 1 on 128 images is no healthy GAN
    (after,) = [run for run in runs if run.id != before.id]
    assert after.name == f"article-latent-1 {flag}"
    key, value = next(iter(module.remedy_overrides(flag, before.config).items()))
    assert str(after.config[key]) == str(real_build({key: value}).to_dict()[key])
    text = report.read_text()
    assert "## The diagnosis's first remedy, applied" in text
    assert f"| latent-1 | {verdict['kind']} | `{flag}` |" in text


def test_reproduce_presets_flag_rejects_unknown_names(tmp_path, capsys):
    code = main(["reproduce", "--presets", "stable,nope", "--store", str(tmp_path), "--quiet"])
    assert code == 2
    err = capsys.readouterr().err
    assert "--presets" in err and "nope" in err and "latent-2" in err
