"""Adversarial sets across save/load and the transfer metrics, on small trained MNIST models."""
import math

import pytest
import torch

from defective_cnn.attacks import pgd
from defective_cnn.defective import defective_masks
from defective_cnn.evaluate import (defense_rates, evaluate_transfer, generate_adversarial_set,
                                    leave_one_out, load_adversarial_set, noise_accuracy, predict, resample_masks,
                                    save_adversarial_set)
from defective_cnn.models import Ensemble
from defective_cnn.toy import digits, trained_tiny


@pytest.fixture(scope="module")
def setup():
    torch.set_num_threads(1)
    train_x, train_y, test_x, test_y = digits(n_train=2000, n_test=120)
    models = {"std": trained_tiny(train_x, train_y, keep_prob=None, init_seed=0),
              "def": trained_tiny(train_x, train_y, keep_prob=0.3, init_seed=1, mask_seed=0),
              "def DIF": trained_tiny(train_x, train_y, keep_prob=0.3, init_seed=2, mask_seed=1)}
    return models, test_x, test_y


def test_saved_set_round_trip_and_evaluation(setup, tmp_path):
    models, x, y = setup
    settings = dict(eps=0.3 * 255, step_size=0.01 * 255, steps=20)
    adv_set = generate_adversarial_set({"std": models["std"]}, x, y, dataset="mnist", attack="pgd", **settings)
    # the saved images are the attack's output rounded to 8 bits and kept inside the eps-ball
    direct = pgd(models["std"], x, y, **settings)
    assert (adv_set.images.int() - torch.round(direct * 255).int()).abs().max() <= 1
    assert (adv_set.images.int() - adv_set.clean_images.int()).abs().max() <= math.floor(0.3 * 255)
    path = save_adversarial_set(adv_set, tmp_path / "sets" / "pgd_std.pt")
    loaded = load_adversarial_set(path)
    assert torch.equal(loaded.images, adv_set.images) and loaded.settings == adv_set.settings
    assert loaded.sources == ["std"] and loaded.dataset == "mnist" and loaded.image_shape == (1, 28, 28)
    table = evaluate_transfer(loaded, models, dataset="mnist")
    assert list(table.target) == list(models)
    # recompute one row by hand from the saved images
    row = table.set_index("target").loc["def"]
    clean_pred, adv_pred = predict(models["def"], loaded.clean()), predict(models["def"], loaded.adversarial())
    counted = loaded.fooled_source & (clean_pred == loaded.labels)
    assert row.n_eval == int(counted.sum()) and row.n_fooled_source == int(loaded.fooled_source.sum())
    assert row.success_defense_rate == pytest.approx(float((adv_pred == loaded.labels)[counted].float().mean()))
    assert table.set_index("target").loc["std"].success_defense_rate == 0.0  # the source never defends its own set
    # evaluating again on the loaded file gives the same numbers (no regeneration, deterministic)
    assert table.equals(evaluate_transfer(load_adversarial_set(path), models, dataset="mnist"))


def test_wrong_dataset_and_bad_sets(setup, tmp_path):
    models, x, y = setup
    adv_set = generate_adversarial_set(models["std"], x[:10], y[:10], dataset="mnist", attack="fgsm", source_name="std")
    with pytest.raises(ValueError, match="made from 'mnist' images .* expects 'fashion_mnist'"):
        evaluate_transfer(adv_set, models, dataset="fashion_mnist")
    with pytest.raises(ValueError, match=r"expects \(3, 32, 32\)"):
        evaluate_transfer(adv_set, models, image_shape=(3, 32, 32))
    bad = tmp_path / "weights.pt"
    torch.save(models["std"].state_dict(), bad)
    with pytest.raises(ValueError, match="is not an adversarial set"):
        load_adversarial_set(bad)
    with pytest.raises(ValueError, match="empty batch"):
        generate_adversarial_set(models["std"], x[:0], y[:0], dataset="mnist")
    with pytest.raises(ValueError, match="eps must be finite and >= 0"):
        generate_adversarial_set(models["std"], x, y, dataset="mnist", eps=-1)
    with pytest.raises(TypeError, match="integer class indices"):
        generate_adversarial_set(models["std"], x, y.float(), dataset="mnist")


def test_ensemble_and_gray_box_sources(setup):
    models, x, y = setup
    x, y = x[:60], y[:60]
    loo = leave_one_out(models)
    assert set(loo) == set(models) and all(isinstance(e, Ensemble) for e in loo.values())
    adv_set = generate_adversarial_set({n: models[n] for n in ("std", "def")}, x, y, dataset="mnist", steps=5)
    assert adv_set.sources == ["std", "def"]
    ensemble_pred = predict(Ensemble([models["std"], models["def"]]), adv_set.adversarial())
    assert torch.equal(adv_set.source_adv_pred, ensemble_pred)
    dif = resample_masks(models["def"], seed=7)
    (_, before), = defective_masks(models["def"])
    (_, after), = defective_masks(dif)
    assert before.keep_prob == after.keep_prob and not torch.equal(before.mask, after.mask)


def test_defense_rates_counts():
    labels = torch.arange(5)
    right, wrong = labels.clone(), labels + 1
    r = defense_rates(labels, right, wrong, right, right)
    assert (r["n_fooled_source"], r["n_eval"], r["success_defense_rate"]) == (5, 5, 1.0)
    r = defense_rates(labels, right, wrong, wrong, right)  # target wrong on every clean image: nothing to count
    assert r["n_eval"] == 0 and math.isnan(r["success_defense_rate"]) and r["adversarial_accuracy"] == 1.0


def test_noise_accuracy_uses_common_images(setup):
    models, x, y = setup
    table = noise_accuracy(models, x, y, sigmas=(0, 64), seed=1)
    correct_everywhere = torch.stack([predict(m, x) == y for m in models.values()]).all(0)
    assert (table.n_eval == int(correct_everywhere.sum())).all()
    assert (table[table.sigma == 0].accuracy == 1.0).all()
