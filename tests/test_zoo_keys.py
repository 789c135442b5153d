"""A network's zoo key must change when the code that trains it would give other weights.

A run records the zoo keys of the networks it loaded, not a hash of `train.py`: a refactor of the training code costs no
re-run, and an edit that changes what training gives must change the key (bump `zoo.ZOO_FORMAT`, or the field of the
training profile that the edit is about). This test trains a smoke network of each kind of training (standard, masked,
regularised, adversarial) and compares its logits on eight fixed test images with those recorded in
`zoo_fingerprints.json` for the same key: other logits under the same key fail it.

The fingerprint networks are built and trained in float64. In float32 the same code gives logits 1e-3 to 1e-2 apart on
two processors (an AVX2-only AMD EPYC against an AVX-512 Xeon) or at two thread counts: the kernels sum in another
order, and a few SGD steps amplify that rounding. In float64 the rounding is about 1e-16 relative, so the same
training lands within about 1e-12 on any processor and thread count, while a changed training step (another learning
rate, say) still moves the logits by 1e-3 or more. The training code runs unchanged: it casts images to the dtype of the
model's parameters, which is float32 everywhere else.

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
# A few steps only: the logits must stay a fingerprint of the code, not of how far training went.
SHORT = dict(epochs=1, n_train=128, n_test=64, warmup_epochs=0.0)
DIGITS = 12  # the logits are recorded to this many decimals
# float64 on another processor or thread count moves the logits by about 1e-12 (measured: see the closing comment); a
# changed training step moves them by 1e-3 or more (test_a_changed_training_step_is_caught).
TOLERANCE = 1e-8


@pytest.fixture(autouse=True)
def float64():
    "Build and train the fingerprint networks in float64, whatever the thread count (any: the test sets none)."
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(before)


def kind_config(kind: str, **overrides):
    spec = dict(KINDS[kind])
    return model_config(dataset="fashion-mnist", profile="smoke", seed=0, overrides={**SHORT, **overrides}, **spec)


def fingerprint(kind: str, zoo_dir, **overrides) -> dict:
    "The key and the logits on the first eight evaluation images of the short smoke network of `kind`, trained now into `zoo_dir`."
    config = kind_config(kind, **overrides)
    trained = get_model(config, zoo_dir=zoo_dir, device="cpu")
    images, _ = evaluation_images("fashion-mnist", "smoke", 8, seed=0)
    with torch.no_grad():
        model = trained.model.eval()
        assert next(model.parameters()).dtype == torch.float64, "the fingerprint network must be float64"
        logits = model(images.double())
    return dict(name=config.name, key=config.key, logits=[[round(v, DIGITS) for v in row] for row in logits.tolist()])


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
    import tempfile

    torch.set_default_dtype(torch.float64)
    with tempfile.TemporaryDirectory() as zoo:
        FINGERPRINTS.write_text(json.dumps({kind: fingerprint(kind, zoo) for kind in KINDS}, indent=1) + "\n")
    print(f"wrote {FINGERPRINTS}")
