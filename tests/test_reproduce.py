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
