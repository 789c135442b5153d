"""Where the training step's time goes on CUDA: the package's step (`train.TrainStep`: bf16 autocast, channels-last,
fused SGD, deterministic cuDNN) against the same step without deterministic cuDNN (autotuned algorithms) and the
same step captured once in a CUDA graph and replayed (no per-kernel launch cost from Python).

Run: python tests/benchmarks/bench_step.py [--json FILE]   (paper profile's ResNet-18 on 32×32×3 synthetic batches)

Issue 14 asks for a 50 000-image epoch at 1.5x a plain PyTorch loop; this shows which change to the step could get
there. The CUDA graph row is an upper bound for the step alone: a graph replays fixed addresses and a fixed
learning rate, so train() would need a capturable schedule and a static input buffer to use it. On the CPU only
the first two rows run (no graphs). Not collected by pytest.
"""
import argparse
import contextlib
import json
import time
from pathlib import Path

import torch

import defective_cnn.train as train_module
from defective_cnn.models import build_model
from defective_cnn.records import environment_record
from defective_cnn.train import TrainStep, get_profile


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def rate(run_steps, steps: int, batch: int, repeats: int, device) -> float:
    "Best images/s over `repeats` runs of `steps` steps."
    best = float("inf")
    for _ in range(repeats):
        sync(device)
        started = time.perf_counter()
        run_steps(steps)
        sync(device)
        best = min(best, time.perf_counter() - started)
    return steps * batch / best


def make_step(args, device, defect=None):
    profile = get_profile("paper", dataset="cifar10")
    model = build_model("resnet18", defect, in_channels=3, num_classes=10, width=args.width)
    return TrainStep(model.to(device, memory_format=torch.channels_last).train(), profile, device)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--width", type=float, default=1.0)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--defect", default=None, help="e.g. 0.1-Bottom (default: standard)")
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    generator = torch.Generator().manual_seed(0)
    images = torch.rand(args.batch, 3, args.size, args.size, generator=generator).to(device).contiguous(memory_format=torch.channels_last)
    labels = torch.randint(0, 10, (args.batch,), generator=generator).to(device)
    results = dict(config=vars(args), environment=environment_record(device), images_per_s={}, errors={})
    env = results["environment"]
    print(f"{env['device_name']}, torch {env['torch']}: ResNet-18 width {args.width:g} {args.defect or 'standard'}, "
          f"batch {args.batch}, {args.size}x{args.size}x3, best of {args.repeats} x {args.steps} steps")

    def record(name, images_per_s):
        results["images_per_s"][name] = images_per_s
        base = results["images_per_s"].get("train_step")
        print(f"  {name:<28} {images_per_s:9.0f} images/s" + (f"   {images_per_s / base:.2f}x train()'s step" if base else ""),
              flush=True)

    variants = ["train_step", "autotuned_cudnn"] + (["cuda_graph"] if device.type == "cuda" else [])
    for name in variants:
        try:
            step = make_step(args, device, args.defect)
            if name == "autotuned_cudnn":  # the same step without train()'s deterministic cuDNN block
                saved = train_module._deterministic_kernels
                train_module._deterministic_kernels = lambda device: contextlib.nullcontext()
                torch.backends.cudnn.benchmark = True
            try:
                if name == "cuda_graph":
                    step.autocast = torch.autocast("cuda", dtype=torch.bfloat16, cache_enabled=False)
                    side = torch.cuda.Stream()
                    side.wait_stream(torch.cuda.current_stream())
                    with torch.cuda.stream(side):  # warm-up outside the graph: momentum buffers, cuDNN plans
                        for _ in range(3):
                            step(images, labels)
                    torch.cuda.current_stream().wait_stream(side)
                    graph = torch.cuda.CUDAGraph()
                    with torch.cuda.graph(graph):
                        step(images, labels)

                    def run(n):
                        for _ in range(n):
                            graph.replay()
                else:
                    for _ in range(3):
                        step(images, labels)

                    def run(n):
                        for _ in range(n):
                            step(images, labels)
                record(name, rate(run, args.steps, args.batch, args.repeats, device))
            finally:
                if name == "autotuned_cudnn":
                    train_module._deterministic_kernels = saved
                    torch.backends.cudnn.benchmark = False
        except Exception as error:  # reported; the other variants go on
            results["errors"][name] = f"{type(error).__name__}: {error}"
            print(f"  {name:<28} FAILED: {type(error).__name__}: {str(error)[:300]}", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return results


if __name__ == "__main__":
    main()
