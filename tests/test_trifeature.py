"""Issue 33: the Trifeature data (generated, seeded, split by combination), its networks, and what the section and its claims
rows promise before any run is committed."""
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from defective_cnn.data import (TRIFEATURE_COLOURS, TRIFEATURE_SETS, TRIFEATURE_SHAPES, TRIFEATURE_TEXTURES, is_held_out, load_dataset,
                                render_trifeature, trifeature_combinations, trifeature_features)

REPO = Path(__file__).resolve().parents[1]
TASKS = ("shape", "texture", "colour", "conflict")


def test_names_are_ten_of_each_and_distinct():
    for names in (TRIFEATURE_SHAPES, TRIFEATURE_TEXTURES, tuple(TRIFEATURE_COLOURS)):
        assert len(names) == 10 and len(set(names)) == 10
    assert len(set(TRIFEATURE_COLOURS.values())) == 10


def test_the_same_seed_gives_the_same_images_and_another_seed_other_ones():
    features = trifeature_features("decodability", "train", 64)
    first = render_trifeature(features, seed=5)
    assert torch.equal(first, render_trifeature(features, seed=5))
    assert not torch.equal(first, render_trifeature(features, seed=6))
    assert torch.equal(load_dataset("trifeature-shape", n_train=50).train.images, load_dataset("trifeature-shape", n_train=50).train.images)


def test_every_image_differs_from_the_others():
    images = load_dataset("trifeature-texture").train.images
    assert len(torch.unique(images.flatten(1)[:2000], dim=0)) == 2000


@pytest.mark.parametrize("kind,split", [("decodability", "train"), ("decodability", "test"), ("conflict", "train")])
def test_features_are_balanced_and_independent(kind, split):
    "Every value of each feature equally often, and for each pair of features each pair of values as often as independence says."
    features = trifeature_features(kind, split, TRIFEATURE_SETS[kind][split])
    pairs = [(0, 2), (1, 2)] if kind == "conflict" else [(0, 1), (0, 2), (1, 2)]  # conflict training: shape = texture by design
    for a, b in pairs:
        counts = np.zeros((10, 10), int)
        np.add.at(counts, (features[:, a], features[:, b]), 1)
        expected = np.outer(counts.sum(1), counts.sum(0)) / counts.sum()
        assert np.abs(counts - expected).max() <= 1, (a, b, counts)
    for column in range(3):
        assert np.ptp(np.bincount(features[:, column], minlength=10)) <= 1


def test_train_and_test_are_split_by_combination():
    data = load_dataset("trifeature-colour")
    train = set(map(tuple, data.train.features.tolist()))
    test = set(map(tuple, data.test.features.tolist()))
    assert not train & test and len(train) == 800 and len(test) == 200
    assert all(is_held_out(*combination) for combination in test) and not any(is_held_out(*c) for c in train)
    conflict = load_dataset("trifeature-conflict")
    assert bool((conflict.train.features[:, 0] == conflict.train.features[:, 1]).all())
    assert bool((conflict.test.features[:, 0] != conflict.test.features[:, 1]).all())
    assert len(trifeature_combinations("conflict", "test")) == 900


@pytest.mark.parametrize("task", TASKS)
def test_each_task_is_a_dataset_of_32_pixel_colour_images(task):
    data = load_dataset(f"trifeature-{task}", n_train=100, n_test=100)
    assert data.image_shape == (3, 32, 32) and data.num_classes == 10
    column = {"shape": 0, "texture": 1, "colour": 2, "conflict": 0}[task]
    assert torch.equal(data.test.labels, data.test.features[:, column])
    assert not data.augment.hflip  # a flip would turn diagonal stripes into antidiagonal ones


@pytest.mark.parametrize("defect", [None, "0.1-Bottom", "0.5-Top"])
def test_the_models_take_trifeature_images(defect):
    from defective_cnn.models import build_model
    data = load_dataset("trifeature-shape", n_train=20, n_test=20)
    model = build_model("resnet18", defect, in_channels=data.in_channels, num_classes=data.num_classes, input_size=data.image_size, width=0.125)
    assert model(data.test.images[:4].float() / 255).shape == (4, 10)


def test_texture_alone_and_shape_alone_are_learnt_at_smoke_size():
    "A standard network given texture as the label learns texture, one given shape learns shape: well above chance (10 %) on unseen combinations."
    from defective_cnn.zoo import get_model, model_config, smoke_zoo_dir
    accuracy = {}
    for task in ("texture", "shape"):
        config = model_config("resnet18", dataset=f"trifeature-{task}", profile="smoke", seed=0, overrides=dict(epochs=4))
        accuracy[task] = get_model(config, zoo_dir=smoke_zoo_dir()).test_acc
    # 256 test images: at chance (10 %) the accuracy exceeds 20 % with probability below 1e-5
    assert accuracy["texture"] > 0.3 and accuracy["shape"] > 0.2, accuracy


def test_plan_prices_a_cpu_run():
    from defective_cnn.plan import network_cost, section_networks
    networks = section_networks("trifeature", {"profile": "cpu"})
    assert len(networks) == 20 and sum(n.startswith("conflict: ") for n in networks) == 8
    costs = [network_cost(config, "cpu-2core") for config in networks.values()]
    assert sum(c["image_epochs"] for c in costs) == 20 * 10000 * 6  # the cpu profile (cifar10 family): 10 000 images, 6 epochs
    assert {c["input_size"] for c in costs} == {32}
    assert all(c["hours"] is not None for c in costs)  # plan.THROUGHPUTS has the 32-px quarter width on cpu-2core (measured by trifeature/cpu)


def test_named_runs_are_three_seeds_of_the_cpu_profile():
    from defective_cnn.freshness import load_runs
    runs = load_runs(REPO / "papermill_runs" / "runs.yaml")["trifeature"]
    assert runs == {"cpu": {"profile": "cpu"}, "cpu_seed1": {"profile": "cpu", "seed": 1}, "cpu_seed2": {"profile": "cpu", "seed": 2}}
    assert list(load_runs(REPO / "papermill_runs" / "runs.yaml"))[-1] == "seeds"


def test_readme_and_results_page_say_whether_the_mechanism_shows_from_the_committed_runs():
    from defective_cnn.claims import CLAIMS, claims_table, trifeature_sentence
    claims = [c for c in CLAIMS if c.section == "trifeature"]
    assert len(claims) == 2 and all(c.where == "beyond the paper" for c in claims)
    expected = trifeature_sentence(claims_table(REPO / "papermill_runs", claims=claims))
    for page in (REPO / "README.md", REPO / "docs" / "results.md"):
        blocks = re.findall(r"<!-- trifeature:begin -->\n(.*?)<!-- trifeature:end -->", page.read_text(encoding="utf-8"), re.S)
        assert len(blocks) == 1, f"{page.name} needs exactly one <!-- trifeature:begin --> ... <!-- trifeature:end --> block"
        assert blocks[0].strip() == expected.strip(), f"{page.name}: regenerate it: .venv/bin/python tools/regenerate_blocks.py"
        if not (REPO / "papermill_runs" / "trifeature").is_dir():
            assert "no run yet" in blocks[0]
