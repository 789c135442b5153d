"defectify across modules: torchvision's networks with the package's masks, saved and loaded, trained a step."
import pytest
import torch
import torch.nn.functional as F
from torchvision import models as tv

from defective_cnn import defectify
from defective_cnn.defective import DefectiveMask, defective_masks
from defective_cnn.models import build_model
from defective_cnn.defectify import masked_activations

# (torchvision builder, package architecture with the same rules, input size, masks at "Bottom")
# (sizes above 64 px: there the package's ResNets and DenseNet use the same 7×7/2 stem as torchvision's)
NETWORKS = [("resnet18", "resnet18", 72, 10), ("resnet50", "resnet50", 72, 8),
            ("vgg19_bn", "vgg19", 32, 4), ("densenet121", "densenet121", 72, 20)]


def masks_of(model):
    return {name: mask.mask.clone() for name, mask in defective_masks(model)}


pytestmark = pytest.mark.usefixtures("one_thread")  # conftest.py


@pytest.mark.parametrize("builder, arch, size, n_masks", NETWORKS)
def test_defectify_saves_loads_and_trains(builder, arch, size, n_masks, tmp_path):
    input_size = (3, size, size)
    model = defectify(getattr(tv, builder)(weights=None, num_classes=10), 0.1, input_size, seed=3)
    masks = masks_of(model)
    assert len(masks) == n_masks
    assert all(isinstance(m, DefectiveMask) and m.mask.shape[1:] != (1, 1) for _, m in defective_masks(model))
    # the activations that the package's own network of these rules masks, in the same order
    ours = masked_activations(build_model(arch, "0.1-Bottom", input_size=size), input_size)
    assert [(r["shape"], r["conv_shape"]) for r in masked_activations(model, input_size)] == \
        [(r["shape"], r["conv_shape"]) for r in ours]

    # through torch.save: the state dict into a network defectified with another seed, and the whole module
    torch.save(model.state_dict(), tmp_path / "state.pt")
    torch.save(model, tmp_path / "model.pt")
    other = defectify(getattr(tv, builder)(weights=None, num_classes=10), 0.1, input_size, seed=4)
    assert not any(torch.equal(masks[name], mask) for name, mask in masks_of(other).items())
    other.load_state_dict(torch.load(tmp_path / "state.pt"))
    whole = torch.load(tmp_path / "model.pt", weights_only=False)
    probe = torch.rand(2, *input_size)
    with torch.no_grad():
        expected = model.eval()(probe)
        assert torch.equal(other.eval()(probe), expected)
        assert torch.equal(whole.eval()(probe), expected)
    assert all(torch.equal(masks[name], mask) for name, mask in masks_of(whole).items())

    # a forward/backward pass and an SGD step with weight decay: weights move, masks stay, no mask is a parameter
    model.train()
    optimiser = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    weights = {name: p.detach().clone() for name, p in model.named_parameters()}
    loss = F.cross_entropy(model(torch.rand(4, *input_size)), torch.tensor([0, 1, 2, 3]))
    loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
    optimiser.step()
    assert any(not torch.equal(weights[name], p) for name, p in model.named_parameters())
    assert all(torch.equal(masks[name], mask) for name, mask in masks_of(model).items())
    assert not any(name.endswith(".mask.mask") for name, _ in model.named_parameters())


def test_masks_fit_one_resolution_and_follow_the_device():
    model = defectify(tv.resnet18(weights=None, num_classes=10), 0.5, (3, 64, 64))
    with pytest.raises(ValueError, match="tied to one input resolution"):
        model(torch.rand(1, 3, 96, 96))
    model.to(torch.float64)
    assert model(torch.rand(1, 3, 64, 64, dtype=torch.float64)).dtype == torch.float64
    if torch.cuda.is_available():
        model.cuda()
        assert all(m.mask.is_cuda for _, m in defective_masks(model))
