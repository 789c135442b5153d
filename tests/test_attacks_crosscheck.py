"""Our FGSM, PGD and MIFGSM against torchattacks (a test-only dependency) on the same model and settings;
the Boundary path through Foolbox; CW's confidence margin."""
import math

import pytest
import torch

from defective_cnn.attacks import boundary, cw_l2, cw_margin, fgsm, mifgsm, pgd
from defective_cnn.toy import digits, trained_tiny

torchattacks = pytest.importorskip("torchattacks")

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.fixture(scope="module")
def data():
    torch.set_num_threads(1)
    train_x, train_y, test_x, test_y = digits(n_train=2000, n_test=64)
    return train_x, train_y, test_x, test_y


@pytest.fixture(scope="module")
def model(data):
    train_x, train_y, _, _ = data
    return trained_tiny(train_x, train_y, keep_prob=0.5)


def _on(device, model, x, y):
    return model.to(device), x.to(device), y.to(device)


def _state(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _assert_same_state(model, before):
    after = model.state_dict()
    assert all(torch.equal(after[k], v) for k, v in before.items())
    assert all(p.grad is None for p in model.parameters())


def _assert_inside(adv, x, eps_255):
    assert adv.min() >= 0 and adv.max() <= 1
    assert (adv - x).abs().max().item() <= eps_255 / 255 + 1e-6


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("eps", [8, 16, 0.3 * 255])
def test_fgsm_matches_torchattacks(data, model, device, eps):
    model, x, y = _on(device, model, *data[2:])
    before = _state(model)
    ours = fgsm(model, x, y, eps=eps)
    theirs = torchattacks.FGSM(model, eps=eps / 255)(x, y)
    assert torch.allclose(ours, theirs, atol=1e-6, rtol=0)
    _assert_inside(ours, x, eps)
    _assert_same_state(model, before)
    model.cpu()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("eps,step,steps", [(16, 1, 20), (8, 2, 7), (0.3 * 255, 0.01 * 255, 40)])
def test_pgd_matches_torchattacks(data, model, device, eps, step, steps):
    model, x, y = _on(device, model, *data[2:])
    ours = pgd(model, x, y, eps=eps, step_size=step, steps=steps)
    theirs = torchattacks.PGD(model, eps=eps / 255, alpha=step / 255, steps=steps, random_start=False)(x, y)
    assert torch.allclose(ours, theirs, atol=1e-6, rtol=0), (ours - theirs).abs().max()
    _assert_inside(ours, x, eps)
    assert not torch.equal(ours, x)  # the attack moved the images
    model.cpu()


def test_pgd_random_start_matches_torchattacks(data, model):
    x, y = data[2:]
    seed = 123
    ours = pgd(model, x, y, eps=8, step_size=2, steps=7, random_start=True, generator=torch.Generator().manual_seed(seed))
    torch.manual_seed(seed)  # torchattacks draws its start from the global generator
    theirs = torchattacks.PGD(model, eps=8 / 255, alpha=2 / 255, steps=7, random_start=True)(x, y)
    assert torch.allclose(ours, theirs, atol=1e-6, rtol=0)
    # a different seed gives a different start, hence different images
    other = pgd(model, x, y, eps=8, step_size=2, steps=7, random_start=True, generator=torch.Generator().manual_seed(seed + 1))
    assert not torch.allclose(ours, other)


def test_model_in_train_mode(data, model):
    "Both libraries attack the eval-mode network and hand the model back in train mode."
    x, y = data[2:]
    before = _state(model)
    reference = pgd(model.eval(), x, y, steps=5)
    model.train()
    ours = pgd(model, x, y, steps=5)
    assert model.training and all(m.training for m in model.modules())
    theirs = torchattacks.PGD(model, eps=16 / 255, alpha=1 / 255, steps=5, random_start=False)(x, y)
    assert model.training
    model.eval()
    assert torch.equal(ours, reference)
    assert torch.allclose(ours, theirs, atol=1e-6, rtol=0)
    _assert_same_state(model, before)  # BN running statistics were not updated


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("eps,step,steps", [(16, 1, 20), (32, 2, 20)])
def test_mifgsm_matches_torchattacks(data, model, device, eps, step, steps):
    """torchattacks divides the gradient by its per-image mean |g|, we by its L1 norm (Appendix E): a
    per-image constant (the pixel count) that momentum carries along, so the signs and the images agree."""
    model, x, y = _on(device, model, *data[2:])
    ours = mifgsm(model, x, y, eps=eps, step_size=step, steps=steps, decay=1.0)
    theirs = torchattacks.MIFGSM(model, eps=eps / 255, alpha=step / 255, steps=steps, decay=1.0)(x, y)
    differing = ((ours - theirs).abs() > 1e-6).float().mean().item()
    assert differing <= 1e-4, f"{differing:.2e} of the pixels differ"
    _assert_inside(ours, x, eps)
    model.cpu()


def test_boundary_through_foolbox_shrinks_perturbation(data, model):
    x, y = data[2][:8], data[3][:8]
    rng_state = torch.get_rng_state()
    start = boundary(model, x, y, steps=1, seed=3)
    result = boundary(model, x, y, steps=600, seed=3)
    assert torch.equal(torch.get_rng_state(), rng_state)  # Foolbox's draws came from a forked generator
    assert result.success.all()
    with torch.no_grad():
        assert (model(result.adversarials).argmax(1) != y).all()
    assert result.adversarials.min() >= 0 and result.adversarials.max() <= 1
    assert (result.mse <= start.mse + 1e-7).all()
    assert (result.mse < start.mse).float().mean() >= 0.75  # most images moved closer
    assert result.mse.sum() < 0.8 * start.mse.sum()
    again = boundary(model, x, y, steps=600, seed=3)
    assert torch.equal(again.adversarials, result.adversarials)  # seeded
    assert not model.training


def test_cw_respects_confidence_on_undefended_model(data):
    train_x, train_y, x, y = data
    plain = trained_tiny(train_x, train_y, keep_prob=None)  # no defective mask: an undefended model
    x, y = x[:16], y[:16]
    with torch.no_grad():
        correct = plain(x).argmax(1) == y
    for kappa in (0, 10):
        adv = cw_l2(plain, x, y, confidence=kappa, search_steps=6, steps=50, lr=0.2, initial_const=1.0)
        with torch.no_grad():
            margin = cw_margin(plain(adv), y)
        found = (adv != x).flatten(1).any(1)
        assert found[correct].float().mean() >= 0.9  # finds adversarials for (nearly) every image
        assert (margin[found] >= kappa - 1e-4).all()  # ... each beating the true class by at least κ
        assert (margin[found] > 0).all()
        assert torch.equal(adv[~found], x[~found])
        assert adv.min() >= 0 and adv.max() <= 1
        if kappa == 0:
            l2_low = (adv - x).flatten(1).norm(dim=1)[found].median()
    # a larger κ needs a larger perturbation
    assert (adv - x).flatten(1).norm(dim=1)[found].median() > l2_low
    assert math.isfinite(l2_low.item())
