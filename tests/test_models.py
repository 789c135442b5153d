"""Cross-checks of defective_cnn.models against torchvision and the other modules.

- Standard ResNet-18, ResNet-50 and DenseNet-121 (CIFAR stem) compute the same function as
  torchvision's, once torchvision's weights are copied over: the architectures are the standard ones,
  not only of the same size.
- Checkpoints carry the masks (defective.DefectiveMask's state_dict handling) through a rebuild.
- Dead neurons learn nothing: in a _DC model the stem filters of dead channels get zero gradient.
- No activation passes through two masks, checked on the autograd graph of a forward pass (the
  notebook checks the same on the torch.fx graph): every architecture at 0.1-Bottom.
- DC never removes a whole layer: 0.1-Bottom_DC keeps a channel in every mask, over seeds and widths.
- A data-module normaliser in front, one SGD step: the small CPU profile trains.
"""
import json

import pytest
import torch
import torchvision
from torch import nn

from defective_cnn.data import with_normalizer
from defective_cnn.defective import DefectiveMask, defective_masks
from defective_cnn.models import ARCHITECTURE_VARIANTS, ARCHITECTURES, build_model, derive_mask_seed


pytestmark = pytest.mark.usefixtures("one_thread")  # conftest.py


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
    first = "layer1.0.mask1"
    assert not torch.equal(other.get_submodule(first).mask, source.get_submodule(first).mask)
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


WEIGHT_LAYER_NODES = ("ConvolutionBackward", "AddmmBackward", "MmBackward", "LinearBackward")


def masks_reached_without_weights(model, x):
    "{mask: masks whose outputs reach its input on the autograd graph through no convolution or linear layer}."
    outputs, inputs = {}, {}

    def record(name):
        def hook(module, args, output):
            inputs[name], outputs[output.grad_fn] = args[0].grad_fn, name
        return hook

    handles = [m.register_forward_hook(record(n)) for n, m in model.named_modules() if isinstance(m, DefectiveMask)]
    try:
        model(x)
    finally:
        for handle in handles:
            handle.remove()
    reached = {}
    for name, start in inputs.items():
        seen, stack, found = set(), [start], set()
        while stack:
            node = stack.pop()
            if node is None or node in seen:
                continue
            seen.add(node)
            if node in outputs:
                found.add(outputs[node])
                continue
            if node.name().startswith(WEIGHT_LAYER_NODES):
                continue
            stack.extend(next_node for next_node, _ in node.next_functions)
        reached[name] = found
    return reached


def test_the_autograd_check_finds_masks_in_series():
    masks = [DefectiveMask(0.5, (2, 4, 4), seed=s) for s in range(3)]
    toy = nn.Sequential(nn.Conv2d(2, 2, 1), masks[0], nn.BatchNorm2d(2), nn.ReLU(), masks[1], nn.Conv2d(2, 2, 1), masks[2]).eval()
    assert masks_reached_without_weights(toy, torch.randn(2, 2, 4, 4)) == {"1": set(), "4": {"1"}, "6": set()}


@pytest.mark.parametrize("name", [*ARCHITECTURES, *ARCHITECTURE_VARIANTS])
def test_no_activation_passes_through_two_masks(name):
    model = build_model(name, "0.1-Bottom", width=0.125, input_size=16).eval()
    reached = masks_reached_without_weights(model, torch.randn(2, 3, 16, 16))
    assert len(reached) == len(defective_masks(model)) > 0
    assert {mask: found for mask, found in reached.items() if found} == {}


def test_dc_keeps_a_channel_in_every_layer_for_seeds_0_to_99():
    "At width 0.25, 0.1-Bottom_DC used to leave some layer with no channel for half of the seeds."
    for seed in range(100):
        model = build_model("resnet18", "0.1-Bottom_DC", in_channels=1, width=0.25, mask_seed=seed)
        kept = {name: int(mask.mask.amax(dim=(1, 2)).sum()) for name, mask in defective_masks(model)}
        assert min(kept.values()) >= 1, (seed, kept)


@pytest.mark.parametrize("width", [0.125, 0.25, 0.5])
def test_dc_keeps_a_channel_at_every_width_and_architecture(width):
    "The masks of build_model, resampled for 100 mask seeds: none keeps no channel."
    for name in ARCHITECTURES:
        model = build_model(name, "0.1-Bottom_DC", in_channels=1, width=width, input_size=16)
        for seed in range(100):
            for mask_name, mask in defective_masks(model):
                mask.seed = derive_mask_seed(seed, mask_name)
                mask.build(tuple(mask.mask.shape))
                assert mask.mask.amax(dim=(1, 2)).sum() >= 1, (name, width, seed, mask_name)
