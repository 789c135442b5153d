"""Training-step throughput of the package's architectures (forward + backward + SGD step on one fixed batch).

Run: .venv/bin/python tests/benchmarks/bench_models.py [--threads N] [--steps N]
     python tests/benchmarks/bench_models.py --device cuda --archs all --input-size 32 --channels 3 --width 1 --amp --json F

Defaults: the small CPU profile (ResNet-18 at width 0.25 on 28×28×1, batch 128), standard and 0.1-Bottom, with and
without channels-last. On CUDA, `--amp` runs the step under bf16 autocast with channels-last, as train() does. The
step alone: no data loading, augmentation or evaluation, so a whole epoch of train() is slower (bench_train.py
measures that for ResNet-18); the plan's throughput table says which rows are step-only. Not collected by pytest.
"""
import argparse
import json
import time
from pathlib import Path

import torch
from torch import nn

from defective_cnn.models import ARCHITECTURES, build_model
from defective_cnn.records import environment_record


def throughput(model, steps, batch=128, channels_last=False, input_shape=(1, 28, 28), device="cpu", amp=False):
    device = torch.device(device)
    model = model.to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    x, y = torch.randn(batch, *input_shape, device=device), torch.randint(0, 10, (batch,), device=device)
    if channels_last:
        model, x = model.to(memory_format=torch.channels_last), x.to(memory_format=torch.channels_last)
    model.train()
    for step in range(steps + 3):
        if step == 3:  # after warm-up (cuDNN's algorithm search)
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            start = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return steps * batch / (time.perf_counter() - start)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--archs", default="resnet18", help=f"comma-separated, or 'all': {', '.join(ARCHITECTURES)}")
    parser.add_argument("--defects", default="standard,0.1-Bottom")
    parser.add_argument("--input-size", type=int, default=28)
    parser.add_argument("--channels", type=int, default=1)
    parser.add_argument("--width", type=float, default=0.25)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--amp", action="store_true", help="bf16 autocast and channels-last only (as train() on CUDA)")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    archs = list(ARCHITECTURES) if args.archs == "all" else args.archs.split(",")
    unknown = sorted(set(archs) - set(ARCHITECTURES))
    if unknown:
        parser.error(f"unknown architecture(s) {', '.join(unknown)}; known: {', '.join(ARCHITECTURES)}")
    env = environment_record(args.device)
    print(f"{env['device_name']}, torch {env['torch']}, {args.input_size}x{args.input_size}x{args.channels}, batch {args.batch}, "
          f"width {args.width:g}{', bf16 autocast' if args.amp else ''}")
    rows = []
    for arch in archs:
        for defect in args.defects.split(","):
            for channels_last in ((True,) if args.amp else (False, True)):
                model = build_model(arch, None if defect == "standard" else defect, in_channels=args.channels,
                                    num_classes=10, width=args.width)
                try:
                    rate = throughput(model, args.steps, batch=args.batch, channels_last=channels_last, device=args.device,
                                      input_shape=(args.channels, args.input_size, args.input_size), amp=args.amp)
                except Exception as error:  # e.g. out of memory: reported, the others go on
                    print(f"{arch} {defect}: {type(error).__name__}: {error}")
                    continue
                rows.append(dict(arch=arch, defect=defect, channels_last=channels_last, images_per_s=rate))
                print(f"{arch:>12} width {args.width:g}, {defect:>10}, channels_last={channels_last!s:5}: {rate:8.0f} img/s",
                      flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(dict(config=vars(args), environment=env, rows=rows), indent=1))
