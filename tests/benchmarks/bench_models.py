"""Training throughput of the small CPU profile: ResNet-18 at width 0.25 on 28×28×1, batch 128.

Run: .venv/bin/python tests/benchmarks/bench_models.py [--threads N] [--steps N]
Not collected by pytest. Prints images per second for a standard and a 0.1-Bottom model.
"""
import argparse
import time

import torch
from torch import nn

from defective_cnn.models import build_model


def throughput(model, steps, batch=128, channels_last=False):
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    x, y = torch.randn(batch, 1, 28, 28), torch.randint(0, 10, (batch,))
    if channels_last:
        model, x = model.to(memory_format=torch.channels_last), x.to(memory_format=torch.channels_last)
    model.train()
    for step in range(steps + 2):
        if step == 2:
            start = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return steps * batch / (time.perf_counter() - start)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    for defect in (None, "0.1-Bottom"):
        for channels_last in (False, True):
            model = build_model("resnet18", defect, in_channels=1, num_classes=10, width=0.25)
            rate = throughput(model, args.steps, channels_last=channels_last)
            print(f"resnet18 width 0.25, {str(model.defect_spec):>10}, channels_last={channels_last!s:5}: {rate:6.0f} img/s")
