"""Small files in the real on-disk formats, written here independently of the package, loaded
through `defective_cnn.data.load_dataset` exactly as real downloads would be."""
import gzip
import pickle
import struct

import numpy as np
import pytest
import torch
from PIL import Image

from defective_cnn.data import DatasetNotFoundError, FolderImageDataset, load_dataset

rng = np.random.default_rng(0)


def write_idx(path, array, gz=False):
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(">" + "I" * array.ndim, *array.shape)
    data = header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()
    if gz:
        with gzip.open(str(path) + ".gz", "wb") as f:
            f.write(data)
    else:
        path.write_bytes(data)


def write_mnist_like(folder, n_train=30, n_test=20, gz=False):
    folder.mkdir(parents=True)
    arrays = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = np.arange(n, dtype=np.uint8) % 10
        write_idx(folder / f"{prefix}-images-idx3-ubyte", images, gz)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte", labels, gz)
        arrays[prefix] = (images, labels)
    return arrays


def test_mnist_idx_files_in_torchvision_layout(tmp_path):
    arrays = write_mnist_like(tmp_path / "MNIST" / "raw")
    data = load_dataset("mnist", root=tmp_path)
    assert data.train.images.shape == (30, 1, 28, 28) and data.test.images.shape == (20, 1, 28, 28)
    np.testing.assert_array_equal(data.train.images[:, 0].numpy(), arrays["train"][0])
    np.testing.assert_array_equal(data.test.labels.numpy(), arrays["t10k"][1])
    np.testing.assert_allclose(data.mean[0].numpy(), arrays["train"][0].mean(0) / 255, atol=1e-6)
    assert data.augment.crop_padding == 0 and data.augment.hflip  # Appendix D: flip only for MNIST


def test_fashion_mnist_gzipped_idx_and_subset(tmp_path):
    arrays = write_mnist_like(tmp_path / "FashionMNIST" / "raw", n_train=50, n_test=30, gz=True)
    data = load_dataset("fashion-mnist", root=tmp_path, n_train=20, n_test=10, seed=1)
    assert len(data.train) == 20 and len(data.test) == 10
    assert torch.bincount(data.train.labels).tolist() == [2] * 10
    assert data.classes[0] == "T-shirt/top" and data.num_classes == 10
    # every subset image is one of the written images, with its label
    written = {arrays["train"][0][i].tobytes(): int(arrays["train"][1][i]) for i in range(50)}
    for image, label in zip(data.train.images[:, 0].numpy(), data.train.labels.tolist()):
        assert written[image.tobytes()] == label


def test_cifar10_python_batches(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    names = [f"class{i}" for i in range(10)]
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({b"label_names": [n.encode() for n in names]}, f)
    written = []
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, (4, 3072), dtype=np.uint8)
        labels = list(rng.integers(0, 10, 4))
        with open(folder / name, "wb") as f:
            pickle.dump({b"data": data, b"labels": labels, b"batch_label": name.encode()}, f)
        written.append((data, labels))
    data = load_dataset("cifar10", root=tmp_path)
    assert data.image_shape == (3, 32, 32) and len(data.train) == 20 and len(data.test) == 4
    assert data.classes == names
    first = written[0][0][0]
    np.testing.assert_array_equal(data.train.images[0, 0].numpy().ravel(), first[:1024])  # red plane first
    np.testing.assert_array_equal(data.train.images[0, 2].numpy().ravel(), first[2048:])
    assert data.test.labels.tolist() == [int(v) for v in written[-1][1]]
    assert data.augment.crop_padding == 4 and data.augment.hflip  # Appendix D: pad-4 crop + flip


def test_image_folder(tmp_path):
    for split, n in (("train", 3), ("val", 2)):
        for cls in ("cat", "dog"):
            (tmp_path / split / cls).mkdir(parents=True)
            for i in range(n):
                pixels = rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)
                Image.fromarray(pixels).save(tmp_path / split / cls / f"{i}.png")
    data = load_dataset("imagefolder", root=tmp_path, image_size=32)
    assert data.classes == ["cat", "dog"] and len(data.train) == 6 and len(data.test) == 4
    image, label = data.test[3]
    assert image.shape == (3, 32, 32) and 0 <= image.min() and image.max() <= 1 and label.item() == 1
    assert data.mean.shape == (3, 32, 32)
    single = FolderImageDataset(tmp_path / "val", image_size=32, classes=data.classes)
    assert single.labels.tolist() == [0, 0, 1, 1]


def test_missing_and_corrupt_data_say_what_to_do(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="download=True"):
        load_dataset("cifar10", root=tmp_path)
    with pytest.raises(DatasetNotFoundError, match="mnist5k"):
        load_dataset("mnist", root=tmp_path)
    with pytest.raises(ValueError, match="unknown dataset 'svhn'"):
        load_dataset("svhn")
    folder = tmp_path / "MNIST" / "raw"
    write_mnist_like(folder)
    (folder / "train-images-idx3-ubyte").write_bytes((folder / "train-images-idx3-ubyte").read_bytes()[:100])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        load_dataset("mnist", root=tmp_path)


def test_missing_fashion_mnist_says_how_to_install(tmp_path, monkeypatch):
    import defective_cnn.data as data_module

    monkeypatch.setattr(data_module, "DEBIAN_FASHION_MNIST", tmp_path / "not-installed")
    with pytest.raises(DatasetNotFoundError, match="apt-get install dataset-fashion-mnist"):
        load_dataset("fashion-mnist", root=tmp_path)
