"""A network's zoo key must change when the code that trains it would give other weights.

A run records the zoo keys of the networks it loaded, not a hash of `train.py`: a refactor of the training code costs no
re-run, and an edit that changes what training gives must change the key (bump `zoo.ZOO_FORMAT`, or the field of the
training profile that the edit is about). This test trains a smoke network of each kind of training (standard, masked,
regularised, adversarial) and compares its logits on eight fixed test images with those recorded in
`zoo_fingerprints.json` for the same key: other logits under the same key fail it.

After a deliberate change of keys, record the new fingerprints: `python tests/test_zoo_keys.py --update`."""
import json
import sys
from pathlib import Path

import pytest
import torch

from defective_cnn.settings import evaluation_images
from defective_cnn.zoo import get_model, model_config

FINGERPRINTS = Path(__file__).with_name("zoo_fingerprints.json")
KINDS = {  # one smoke network of each kind of training
    "standard": dict(arch="resnet18"),
    "masked": dict(arch="resnet18", defect="0.1-Bottom"),
    "regularised": dict(arch="resnet18", baseline="dropblock"),
    "adversarial": dict(arch="resnet18", baseline="adversarial_training"),
}
# A few steps only: longer training turns float noise (another thread count) into other weights (logits 5 apart after the
# smoke profile's 128 steps, 1 against 2 threads), while a few steps keep it near 1e-6 and any changed step far above this.
SHORT = dict(epochs=1, n_train=128, n_test=64, warmup_epochs=0.0)
TOLERANCE = 1e-3  # on the logits, trained at one thread: other thread counts sum in another order (0.006 apart at two)


@pytest.fixture(autouse=True)
def one_thread():
    "Train and evaluate at one torch thread, as the recorded fingerprints were."
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def kind_config(kind: str, **overrides):
    spec = dict(KINDS[kind])
    return model_config(dataset="fashion-mnist", profile="smoke", seed=0, overrides={**SHORT, **overrides}, **spec)


def fingerprint(kind: str, zoo_dir, **overrides) -> dict:
    "The key and the logits on the first eight evaluation images of the short smoke network of `kind`, trained now into `zoo_dir`."
    config = kind_config(kind, **overrides)
    trained = get_model(config, zoo_dir=zoo_dir, device="cpu")
    images, _ = evaluation_images("fashion-mnist", "smoke", 8, seed=0)
    with torch.no_grad():
        logits = trained.model.eval()(images.float())
    return dict(name=config.name, key=config.key, logits=[[round(v, 5) for v in row] for row in logits.tolist()])


@pytest.mark.parametrize("kind", list(KINDS))
def test_same_key_same_weights(kind, tmp_path):
    recorded = json.loads(FINGERPRINTS.read_text())[kind]
    config = kind_config(kind)
    assert config.key == recorded["key"], (
        f"the zoo key of the smoke {kind} network changed ({recorded['key']} -> {config.key}); if that is deliberate, "
        f"record the new fingerprints: python tests/test_zoo_keys.py --update")
    now = fingerprint(kind, tmp_path)
    gap = (torch.tensor(now["logits"]) - torch.tensor(recorded["logits"])).abs().max().item()
    assert gap <= TOLERANCE, (
        f"training the smoke {kind} network gives other weights (logits differ by up to {gap:.4g}) under the same zoo key "
        f"{config.key}: an edit changed what training gives, so stored networks and the committed runs that read them are "
        f"stale — bump zoo.ZOO_FORMAT (or the training profile field the edit is about), then python tests/test_zoo_keys.py --update")


def test_a_changed_training_step_is_caught(tmp_path):
    "The check can fail: another learning rate (standing for an edit of the training step) moves the logits beyond the tolerance."
    recorded = json.loads(FINGERPRINTS.read_text())["standard"]
    other = fingerprint("standard", tmp_path, lr=0.09)
    assert (torch.tensor(other["logits"]) - torch.tensor(recorded["logits"])).abs().max().item() > TOLERANCE


if __name__ == "__main__" and sys.argv[1:] == ["--update"]:
    torch.set_num_threads(1)
    import tempfile

    with tempfile.TemporaryDirectory() as zoo:
        FINGERPRINTS.write_text(json.dumps({kind: fingerprint(kind, zoo) for kind in KINDS}, indent=1) + "\n")
    print(f"wrote {FINGERPRINTS}")
