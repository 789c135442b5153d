"Later attacks (issue 27): the adapter's cross-checks against the package's own attacks, bad input, the section's shared networks, and AutoAttack's stages and flags against what pyautoattack itself lists and raises."
import pytest
import torch
from fastcore.test import test_fail as fails  # `test_` names would be collected by pytest
from torch import nn

from defective_cnn import attack_libraries as al, later_attacks as la
from defective_cnn.attacks import mifgsm
from defective_cnn.evaluate import to_uint8
from defective_cnn import settings
from defective_cnn.transfer import table3_configs, table6_configs

pytest.importorskip("torchattacks")


@pytest.fixture(scope="module")
def toy():
    "A small gray-image CNN with batch norm (in eval mode), 12 8-bit images and the classes it gives them."
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 8, 3, padding=1),
                        nn.ReLU(), nn.Flatten(), nn.Linear(8 * 14 * 14, 10))
    with torch.no_grad():  # non-trivial running statistics, as in a trained network
        net.train()(torch.rand(64, 1, 28, 28))
    net.eval()
    images = torch.randint(0, 256, (12, 1, 28, 28)).float() / 255
    with torch.no_grad():
        labels = net(images).argmax(1)
    return net, images, labels


def seeded(seed, name, net, images, labels, **settings):
    torch.manual_seed(seed)
    return al.later_attack(name, net, images, labels, **settings)


def test_di_without_diversity_with_momentum_is_the_package_mifgsm(toy):
    net, images, labels = toy
    reference = mifgsm(net, images, labels, eps=16, step_size=1, steps=20, decay=1.0)
    di = seeded(0, "DI-FGSM", net, images, labels, diversity_prob=0.0, decay=1.0)
    assert (di - reference).abs().max() <= al.CROSSCHECK_TOLERANCE
    assert torch.equal(to_uint8(di), to_uint8(reference))
    # the check has teeth: without momentum DI is I-FGSM, not MI-FGSM
    assert (seeded(0, "DI-FGSM", net, images, labels, diversity_prob=0.0, decay=0.0) - reference).abs().max() > 1 / 255 - 1e-6


def test_ti_with_a_1x1_kernel_is_di_with_the_same_seed(toy):
    net, images, labels = toy
    di = seeded(5, "DI-FGSM", net, images, labels)
    assert torch.equal(seeded(5, "TI-FGSM", net, images, labels, len_kernel=1), di)
    assert not torch.equal(seeded(5, "TI-FGSM", net, images, labels, len_kernel=3), di)  # a kernel that smooths changes them


def test_every_attack_stays_in_the_ball_and_the_pixel_range(toy):
    net, images, labels = toy
    for name in al.LATER_ATTACKS:
        extra = dict(N=3) if name in ("VMI-FGSM", "VNI-FGSM") else {}
        for eps in (4, 16):
            adversarial = seeded(0, name, net, images, labels, eps=eps, **extra)
            assert (adversarial - images).abs().max() <= eps / 255 + 1e-6, (name, eps)
            assert adversarial.min() >= 0 and adversarial.max() <= 1, name
            assert (adversarial != images).any(), name


def test_the_same_seed_gives_the_same_images(toy):
    net, images, labels = toy
    first = la.later_adversarial_set(net, images, labels, "toy", "VMI-FGSM", seed=3, N=3)
    again = la.later_adversarial_set(net, images, labels, "toy", "VMI-FGSM", seed=3, N=3)
    other = la.later_adversarial_set(net, images, labels, "toy", "VMI-FGSM", seed=4, N=3)
    assert torch.equal(first.images, again.images)
    assert not torch.equal(first.images, other.images)


def test_the_crosscheck_table_passes_on_a_network(toy):
    net, images, labels = toy
    checks = al.crosschecks(net, images[:6], labels[:6], variance_samples=2)
    assert checks.passed.all(), checks[~checks.passed]


def test_an_unknown_attack_lists_the_allowed_ones(toy):
    net, images, labels = toy
    fails(lambda: al.later_attack("DIM", net, images, labels), contains="unknown attack 'DIM'; allowed: 'PGD', 'MI-FGSM', 'DI-FGSM', "
              "'TI-FGSM', 'SI-NI-FGSM', 'VMI-FGSM', 'VNI-FGSM'")
    fails(lambda: la.later_transfer_results({"s": net}, {"t": net}, ["PGD", "Admix"], images, labels, "toy"), contains="'Admix'")


def test_a_budget_outside_the_pixel_range_or_no_steps_is_refused(toy):
    net, images, labels = toy
    fails(lambda: al.later_attack("PGD", net, images, labels, eps=300), contains="eps must be in (0, 255] on the 0-255 pixel scale, got 300")
    fails(lambda: al.later_attack("DI-FGSM", net, images, labels, step_size=0), contains="step_size must be in (0, 255]")
    fails(lambda: al.later_attack("TI-FGSM", net, images, labels, eps=-2), contains="got -2")
    fails(lambda: al.later_attack("SI-NI-FGSM", net, images, labels, steps=0), contains="steps must be an integer >= 1, got 0")
    fails(lambda: al.later_attack("VMI-FGSM", net, images, labels, steps=-5), contains="got -5")
    fails(lambda: al.autoattack(net, images, labels, eps=256), contains="got 256")


def test_autoattack_refuses_a_model_in_training_mode(toy):
    net, images, labels = toy
    running = net[1].running_mean.clone()
    net.train()
    try:
        fails(lambda: al.autoattack(net, images, labels), contains="refuses a model in training mode")
        assert torch.equal(net[1].running_mean, running)  # nothing ran: batch norm's statistics are untouched
    finally:
        net.eval()


def standard_stages(model) -> list:
    "The attacks of AutoAttack's standard version, in order, as the library itself lists them."
    from pyautoattack import AutoAttack

    return list(AutoAttack(model, norm="Linf", eps=8 / 255, version="standard", device="cpu").attacks_to_run)


def test_autoattack_reports_every_stage_within_eps(toy):
    net, images, labels = toy
    table, adversarial = al.autoattack(net, images[:4], labels[:4], eps=8)
    assert list(table.stage) == ["clean", *standard_stages(net)]
    assert table.n_robust.is_monotonic_decreasing and table.n_robust.iloc[0] == 4
    assert (adversarial - images[:4]).abs().max() <= 8 / 255 + 1e-6
    assert table["n_flags"].iloc[0] == 0 and table["flags"].iloc[0] == ""  # a plain network trips none of the library's checks


class Quantised(nn.Module):
    "`net` on its input rounded to the 8-bit grid: the same decisions on 8-bit images, and a gradient that is zero everywhere."
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net(torch.round(x * 255) / 255)


class RandomShift(nn.Module):
    "`net`'s logits plus one random number per image: the same decisions (and losses), but another output at every call."
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        logits = self.net(x)
        return logits + torch.randn(len(logits), 1, device=logits.device)


class Probabilities(nn.Module):
    "`net`'s softmax instead of its logits."
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net(x).softmax(1)


@pytest.fixture(scope="module")
def attacked(toy):
    "AutoAttack (ε 8) on 4 images of the toy network behind `wrapper`, once per wrapper: (table, the wrapped model)."
    net, images, labels = toy
    done = {}
    def attack(wrapper):
        if wrapper not in done:
            model = wrapper(net).eval()
            done[wrapper] = al.autoattack(model, images[:4], labels[:4], eps=8)[0], model
        return done[wrapper]
    return attack


def flags_of(table) -> set:
    "The distinct flags `autoattack` reported, checked against its count."
    flags = table["flags"].iloc[0]
    assert table["n_flags"].iloc[0] == (len(flags.split(" | ")) if flags else 0)
    return set(flags.split(" | ")) if flags else set()


@pytest.mark.parametrize("wrapper, expected", [
    # pyautoattack's check_zero_gradients (inside APGD), then check_square_sr: Square, which needs no gradient, fools
    # the images the gradient attacks could not
    (Quantised, ("points with zero gradient", "Square Attack has decreased the robust accuracy")),
    (RandomShift, ("it seems to be a randomized defense",)),  # check_randomized
    (Probabilities, ("the output is a probability distribution",)),  # check_range_output
])
def test_autoattack_reports_the_flags_the_library_raises(attacked, wrapper, expected):
    table, model = attacked(wrapper)
    flags = flags_of(table)
    for phrase in expected:
        assert any(phrase in flag for flag in flags), (phrase, flags)
    assert len(flags) == len(expected), flags  # and no other check fired
    assert list(table.stage) == ["clean", *standard_stages(model)]


def test_zero_gradients_leave_the_gradient_attacks_without_a_single_image(attacked):
    "The quantised network's stages: APGD-CE, APGD-T and FAB-T fool nothing, Square (no gradient) fools images."
    table, _ = attacked(Quantised)
    robust = dict(zip(table.stage, table.n_robust))
    assert robust["clean"] == robust["apgd-ce"] == robust["apgd-t"] == robust["fab-t"] == 4
    assert robust["square"] < 4


def test_the_section_networks_are_the_other_sections_own():
    nets = la.later_attacks_networks("cpu", seed=1)
    sources, targets = table3_configs(["resnet18"], ["resnet18"], [0.3], dataset="fashion-mnist", profile="cpu", seed=1)
    assert nets["source resnet18"] == sources["resnet18"]
    assert nets["Standard CNN"] == targets["resnet18"] and nets["0.3-Bottom"] == targets["resnet18 0.3-Bottom"]
    members, _ = table6_configs(["resnet18", "vgg19", "senet18"], ["resnet18"], [0.3], dataset="fashion-mnist", profile="cpu", seed=1)
    assert {k: v for k, v in nets.items() if k.startswith("member ")} == {f"member {a}": c for a, c in members.items()}
    assert nets["Adversarial Training"] == settings.tested_config("Adversarial Training", dataset="fashion-mnist", profile="cpu", seed=1)
