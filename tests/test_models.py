"""Cross-checks of defective_cnn.models against torchvision and the other modules.

- Standard ResNet-18, ResNet-50 and DenseNet-121 (CIFAR stem) compute the same function as
  torchvision's, once torchvision's weights are copied over: the architectures are the standard ones,
  not only of the same size.
- Checkpoints carry the masks (defective.DefectiveMask's state_dict handling) through a rebuild.
- Dead neurons learn nothing: in a _DC model the stem filters of dead channels get zero gradient.
- A data-module normaliser in front, one SGD step: the small CPU profile trains.
"""
import json

import pytest
import torch
import torchvision
from torch import nn

from defective_cnn.data import with_normalizer
from defective_cnn.defective import defective_masks
from defective_cnn.models import build_model


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    "Small models run fastest on one thread, and far faster than on two when the machine is busy."
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def cifar_torchvision(name):
    tv = getattr(torchvision.models, name)(num_classes=10)
    if name.startswith("resnet"):
        tv.conv1, tv.maxpool = nn.Conv2d(3, 64, 3, 1, 1, bias=False), nn.Identity()
    else:
        tv.features.conv0 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
        del tv.features.norm0, tv.features.relu0, tv.features.pool0
    return tv


def copy_in_order(source, target):
    "Copy `source`'s parameters and BN buffers into `target`, matched by registration order and shape."
    src = [(k, v) for k, v in source.state_dict().items() if not k.endswith("num_batches_tracked")]
    dst = [(k, v) for k, v in target.state_dict().items() if not k.endswith("num_batches_tracked") and not k.endswith(".mask")]
    assert len(src) == len(dst)
    new_state = target.state_dict()
    for (ks, vs), (kd, vd) in zip(src, dst):
        assert vs.shape == vd.shape, (ks, kd)
        new_state[kd] = vs.clone()
    target.load_state_dict(new_state)


@pytest.mark.parametrize("name", ["resnet18", "resnet50", "densenet121"])
def test_same_function_as_torchvision(name):
    torch.manual_seed(0)
    reference = cifar_torchvision(name).eval()
    with torch.no_grad():  # non-trivial BN statistics, so that BN order mismatches would show
        for module in reference.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.uniform_(-0.2, 0.2)
                module.running_var.uniform_(0.5, 1.5)
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.2, 0.2)
    ours = build_model(name).eval()
    copy_in_order(reference, ours)
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        expected, got = reference(x), ours(x)
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-4)


def test_checkpoint_restores_masks_into_a_rebuilt_model():
    source = build_model("senet18", "0.3-Bottom_SM", width=0.25, mask_seed=3).eval()
    blob = json.dumps(source.build_config)
    other = build_model("senet18", "0.3-Bottom_SM", width=0.25, mask_seed=4).eval()
    assert not torch.equal(other.stem.mask.mask, source.stem.mask.mask)
    other.load_state_dict(source.state_dict())
    x = torch.randn(3, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(other(x), source(x))
    rebuilt = build_model(**json.loads(blob)).eval()  # the config alone rebuilds the same masks
    for (name, a), (_, b) in zip(defective_masks(rebuilt), defective_masks(source)):
        assert torch.equal(a.mask, b.mask), name


def test_dead_channels_get_no_gradient():
    model = build_model("resnet18", "0.5-Bottom_DC", in_channels=1, width=0.25)
    x, y = torch.randn(8, 1, 28, 28), torch.randint(0, 10, (8,))
    nn.functional.cross_entropy(model(x), y).backward()
    dead = model.stem.mask.mask[:, 0, 0] == 0
    assert 0 < dead.sum() < dead.numel()
    grad = model.stem.conv.weight.grad
    assert (grad[dead] == 0).all()
    assert (grad[~dead].abs().sum(dim=(1, 2, 3)) > 0).all()


def test_small_profile_trains_behind_the_normaliser():
    torch.manual_seed(0)
    x, y = torch.rand(64, 1, 28, 28), torch.randint(0, 10, (64,))
    model = with_normalizer(build_model("resnet18", "0.1-Bottom", in_channels=1, width=0.25), x.mean(0))
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    losses = []
    for _ in range(8):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] * 0.7, losses
