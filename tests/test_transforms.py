"Properties of the image transforms (defective_cnn.transforms) and the shape bias (defective_cnn.shape) on random inputs."
import pytest
import torch

from defective_cnn.settings import bottom_configs
from defective_cnn.shape import shape_bias
from defective_cnn.transforms import (check_grid, cue_conflict_pairs, frequency_stylize, high_pass, low_pass, shuffle_patches,
                                      silhouette, silhouette_stylize, stylize)


@pytest.mark.parametrize("size,k", [(28, 2), (28, 7), (28, 14), (32, 8), (32, 32), (224, 8)])
def test_shuffle_is_a_permutation_of_patches(size, k):
    images = torch.rand(3, 2, size, size)
    out = shuffle_patches(images, k, seed=5)
    p = size // k
    cut = lambda x: x.reshape(3, 2, k, p, k, p).permute(0, 2, 4, 1, 3, 5).reshape(3, k * k, -1)
    old, new = cut(images), cut(out)
    for i in range(3):  # each new patch is an old one, each old one used once: sorting patches gives the same set
        key = lambda t: sorted(map(tuple, t.tolist()))
        assert key(new[i]) == key(old[i])
    assert torch.equal(torch.sort(out.flatten()).values, torch.sort(images.flatten()).values)


def test_shuffle_identity_seed_and_errors():
    images = torch.rand(4, 3, 12, 12)
    assert torch.equal(shuffle_patches(images, 1, seed=9), images)
    assert torch.equal(shuffle_patches(images, 3, seed=1), shuffle_patches(images, 3, seed=1))
    assert not torch.equal(shuffle_patches(images, 3, seed=1), shuffle_patches(images, 3, seed=2))
    # images are shuffled independently: two copies of one image get different orders
    twins = shuffle_patches(images[:1].repeat(8, 1, 1, 1), 4, seed=0)
    assert len({tuple(t.flatten().tolist()) for t in twins}) > 1
    with pytest.raises(ValueError, match=r"k=5 does not divide the image size 12.*\[1, 2, 3, 4, 6, 12\]"):
        shuffle_patches(images, 5)
    with pytest.raises(ValueError, match="k=8 does not divide the image size 28"):
        check_grid(8, 28)


def test_frequency_split_is_exact_before_rescaling():
    torch.manual_seed(0)
    a, b = torch.rand(5, 3, 20, 20, dtype=torch.float64), torch.rand(5, 3, 20, 20, dtype=torch.float64)
    for cutoff in (1, 3.5, 6):
        hybrid = low_pass(a, cutoff) + high_pass(b, cutoff)
        torch.testing.assert_close(low_pass(hybrid, cutoff), low_pass(a, cutoff))
        torch.testing.assert_close(high_pass(hybrid, cutoff), high_pass(b, cutoff))
    out = frequency_stylize(a, b, cutoff=3)
    assert out.min() >= 0 and out.max() <= 1
    # inside [0, 1] already: nothing is rescaled
    flat = torch.full((1, 1, 8, 8), 0.5, dtype=torch.float64)
    torch.testing.assert_close(frequency_stylize(flat, flat, cutoff=2), flat)


def test_silhouette_stylize_keeps_shape_and_takes_texture():
    torch.manual_seed(1)
    shape = torch.zeros(2, 1, 16, 16); shape[:, :, 4:12, 2:14] = 0.7  # a rectangle
    texture = torch.zeros(2, 1, 16, 16); texture[:, :, 2:14, 2:14] = torch.rand(2, 1, 12, 12) * 0.5 + 0.5
    out = silhouette_stylize(shape, texture, patch_size=4, seed=0)
    mask = silhouette(shape)[:, None]
    assert (out[~mask] == 0).all()  # shape kept: nothing outside
    assert (out[mask] >= 0.5).all()  # texture taken: every pixel inside comes from the inside of B's object
    values = set(texture[texture > 0].tolist())
    assert set(out[mask].tolist()) <= values
    with pytest.raises(ValueError, match="patch_size 5 must divide"):
        silhouette_stylize(shape, texture, patch_size=5)
    with pytest.raises(ValueError, match="unknown stylisation method 'painting'"):
        stylize(shape, texture, "painting")


def test_cue_conflict_pairs_and_shape_bias():
    labels = torch.randint(0, 10, (500,), generator=torch.Generator().manual_seed(0))
    partners = cue_conflict_pairs(labels, seed=2)
    assert (labels[partners] != labels).all()
    assert len(labels[partners].unique()) == 10
    pred = labels.clone(); pred[:100] = labels[partners][:100]
    bias = shape_bias(pred, labels, labels[partners])
    assert bias["n_shape"] == 400 and bias["n_texture"] == 100 and bias["shape_bias"] == pytest.approx(0.8)


def test_empty_keep_probabilities_are_refused():
    with pytest.raises(ValueError, match="non-empty list"):
        bottom_configs([], archs=["resnet18"], dataset="fashion-mnist", profile="cpu")
