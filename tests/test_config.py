"""Presets, scales, config files and validation."""

import pytest

from ganwatch.config import PRESETS, ConfigError, build_config, load_config_file


def test_presets_are_the_articles_experiments():
    stable = build_config({"preset": "stable"})
    assert (stable.latent_dim, stable.lr, stable.beta1, stable.beta2, stable.epochs) == (
        128,
        2e-4,
        0.5,
        0.999,
        100,
    )
    assert stable.batch_size == 1024 and stable.d_steps is None  # the loss decides: bce takes 1
    assert build_config({"preset": "latent-2"}).latent_dim == 2
    assert build_config({"preset": "latent-1"}).latent_dim == 1
    assert build_config({"preset": "latent-1"}).epochs == 200
    lr = build_config({"preset": "lr-0.2"})
    assert (lr.lr, lr.latent_dim, lr.beta1) == (0.2, 128, 0.5)
    betas = build_config({"preset": "adam-default-betas"})
    assert (betas.beta1, betas.beta2, betas.lr) == (0.9, 0.999, 2e-4)
    assert set(PRESETS) == {"stable", "latent-2", "latent-1", "lr-0.2", "adam-default-betas"}


def test_quick_scale_trains_the_cpu_sized_model_and_keeps_each_presets_own_settings():
    quick = build_config({"preset": "latent-1", "scale": "quick"})
    assert (quick.model, quick.train_size, quick.batch_size, quick.epochs) == (
        "mlp",
        12_800,
        64,
        20,
    )
    assert quick.latent_dim == 1 and quick.beta1 == 0.5
    assert quick.lr == 5e-4  # the article's 2e-4 is what the MLP reaches digits with at 5e-4
    assert build_config({"preset": "lr-0.2", "scale": "quick"}).lr == 0.2  # the preset's own
    betas = build_config({"preset": "adam-default-betas", "scale": "quick"})
    assert (betas.beta1, betas.lr) == (0.9, 5e-4)
    assert build_config({"preset": "stable", "scale": "full"}).model == "auto"  # the article's


def test_flags_override_preset_and_scale():
    config = build_config({"preset": "stable", "scale": "quick", "epochs": 3, "lr": "1e-3"})
    assert config.epochs == 3 and config.lr == 1e-3


def test_config_file_yaml(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("preset: latent-2\nlatent-dim: 4\nepochs: 7\n")
    config = build_config(load_config_file(path))
    assert (config.latent_dim, config.epochs, config.preset) == (4, 7, "latent-2")


def test_config_file_unknown_key_names_file_and_key(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("learning_rate: 0.1\n")
    with pytest.raises(ConfigError, match="bad.yaml.*learning_rate"):
        load_config_file(path)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_config_file(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("values", "flag"),
    [
        ({"lr": -1}, "--lr"),
        ({"beta1": 1.0}, "--beta1"),
        ({"epochs": 0}, "--epochs"),
        ({"dataset": "cifar"}, "--dataset"),
        ({"preset": "nope"}, "--preset"),
        ({"batch_size": "big"}, "--batch-size"),
        ({"latent_dim": 2.5}, "--latent-dim"),
        ({"stop_confidence": 1.5}, "--stop-confidence"),
        ({"stop_confidence": "sure"}, "--stop-confidence"),
        ({"stop_min_epochs": 0}, "--stop-min-epochs"),
        ({"stop_min_epochs": 1.5}, "--stop-min-epochs"),
    ],
)
def test_bad_values_name_the_flag(values, flag):
    with pytest.raises(ConfigError, match=flag):
        build_config(values)


def test_stop_confidence_comes_from_the_flag():
    from ganwatch.cli.commands import train_overrides
    from ganwatch.cli.parser import build_parser

    args = build_parser().parse_args(
        ["train", "--stop-on", "mode_collapse", "--stop-confidence", "0.5"]
        + ["--stop-min-epochs", "3"]
    )
    config = build_config(train_overrides(args))
    assert (config.stop_on, config.stop_confidence, config.stop_min_epochs) == (
        "mode_collapse",
        0.5,
        3,
    )
    assert build_config({}).stop_confidence == 0.0  # any confidence, as before
    assert build_config({}).stop_min_epochs == 1  # from the first epoch, as before
