"""Training throughput: the package's `train` (and its `TrainStep`) against a plain PyTorch loop, in one run.

Usage:
  CPU, CI-sized (well under a minute):
    OMP_NUM_THREADS=1 .venv/bin/python tests/benchmarks/bench_train.py --n-images 512 --width 0.25
  GPU (defaults on CUDA: 50 000 CIFAR-shaped images, full width, batch 128, results as JSON):
    python tests/benchmarks/bench_train.py --json results.json
  Fashion-MNIST-shaped data (1x28x28, flips only) and adversarial-training throughput, to size the gpu profile:
    python tests/benchmarks/bench_train.py --dataset fashion-mnist --n-images 60000 --adv-steps 1,7 --adv-images 10000

What is timed, on synthetic uint8 images with random labels (the paper profile's ResNet-18 behind its
per-pixel-mean normaliser; SGD 0.1, momentum 0.9, weight decay 5e-4):
  epoch  ours:  `defective_cnn.train.train` for --epochs epochs (seconds per epoch from its metrics, which
                include evaluating a small test set); the best epoch after the first (the first pays warm-up,
                and compilation with --variants compile, whose first epoch is reported too).
         plain: a DataLoader over a TensorDataset with per-image CPU transforms (pad-4 random crop for
                CIFAR shapes, random horizontal flip), pinned memory and worker processes on CUDA, uint8 to
                the device, bf16 autocast on CUDA, channels-last, torch's default SGD, `loss.item()` per batch
                (as the PyTorch tutorials do), then the same test-set evaluation as ours.
  step   ours:  `TrainStep` (what `train` calls each batch) on batches already on the device. On CUDA both run
                the step from a CUDA graph (the profile's `cuda_graphs`); --variants eager times the epoch without.
         plain: the same forward/backward/SGD written out, torch's default SGD, cuDNN's default algorithms.
  mask overhead: the same measurements for the 0.1-Bottom defective ResNet-18, divided by the standard one's.
  --trace: where the time goes, from torch.profiler: one epoch of ours on --trace-images images and --steps steps
         of ours alone; per phase the wall time, the device's busy time (sum of the device-side events, kernels
         and copies; CPU: op self time), the kernels that took most of it and the host's busiest ops (printed and
         saved in the JSON).
Goals on one H100 (printed on CUDA): a 50 000-image epoch <= 3 s with augmentation, ours >= 1.5x plain, mask
overhead <= 1.03x. Not a test: timings depend on the machine and its load.
"""
import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

from defective_cnn.data import BatchAugment, ImageData, TensorImageDataset
from defective_cnn.records import environment_record
from defective_cnn.train import TrainStep, train
from defective_cnn.zoo import ModelConfig, build_untrained

SHAPES = {"cifar10": ((3, 32, 32), BatchAugment(crop_padding=4, hflip=True)),
          "fashion-mnist": ((1, 28, 28), BatchAugment(crop_padding=0, hflip=True))}
GOALS = dict(epoch_seconds=3.0, ours_over_plain=1.5, mask_overhead=1.03)


def synthetic_data(dataset: str, n_train: int, n_test: int, seed: int = 0) -> ImageData:
    shape, augment = SHAPES[dataset]
    g = torch.Generator().manual_seed(seed)
    classes = [str(c) for c in range(10)]

    def split(n):
        return TensorImageDataset(torch.randint(0, 256, (n, *shape), generator=g, dtype=torch.uint8),
                                  torch.randint(0, 10, (n,), generator=g), classes)

    train_split = split(n_train)
    return ImageData(dataset, train_split, split(n_test), classes, train_split.pixel_mean(), augment)


def build(args, data, defect=None, **overrides):
    "The paper profile's ResNet-18 (`defect`: e.g. '0.1-Bottom'), its profile, seeded."
    overrides = dict(dict(epochs=args.epochs, milestones=(), width=args.width, batch_size=args.batch_size,
                          eval_batch_size=1000), **overrides)
    config = ModelConfig("resnet18", defect, dataset=args.dataset, profile="paper", overrides=overrides, seed=0)
    return build_untrained(config, data.image_shape, data.num_classes, data.mean), config.train_profile()


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def ours_epochs(args, data, device, defect=None, **overrides) -> list[float]:
    "Seconds of each epoch of the package's `train`."
    model, profile = build(args, data, defect, **overrides)
    rows = train(model, data, profile, seed=0, device=device, progress=False)
    return [row["seconds"] for row in rows]


class Augmented(Dataset):
    "A TensorDataset's uint8 images with the usual per-image CPU transforms: pad-and-crop, then flip."

    def __init__(self, images, labels, padding: int, hflip: bool):
        self.images, self.labels, self.padding, self.hflip = images, labels, padding, hflip

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        x = self.images[i]
        if self.padding:
            p, (h, w) = self.padding, x.shape[1:]
            x = F.pad(x, (p, p, p, p))
            dy, dx = torch.randint(0, 2 * p + 1, (2,)).tolist()
            x = x[:, dy:dy + h, dx:dx + w]
        if self.hflip and torch.rand(()) < 0.5:
            x = x.flip(-1)
        return x, self.labels[i]


def plain_epochs(args, data, device, workers: int) -> list[float]:
    "Seconds of each epoch of a plain PyTorch loop over a DataLoader."
    model, profile = build(args, data)
    memory_format = torch.channels_last
    model.to(device, memory_format=memory_format).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=profile.lr, momentum=profile.momentum, weight_decay=profile.weight_decay)
    augment = data.augment
    dataset = Augmented(data.train.images, data.train.labels, augment.crop_padding, augment.hflip)
    loader = DataLoader(dataset, batch_size=profile.batch_size, shuffle=True, num_workers=workers,
                        pin_memory=device.type == "cuda", persistent_workers=workers > 0)
    test_loader = DataLoader(torch.utils.data.TensorDataset(data.test.images, data.test.labels), batch_size=profile.eval_batch_size)
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else torch.autocast("cpu", enabled=False)
    torch.manual_seed(0)
    seconds = []
    for _ in range(args.epochs):
        sync(device)
        started = time.perf_counter()
        running = 0.0
        for images, labels in loader:
            images = images.to(device, non_blocking=True).to(memory_format=memory_format).float().div_(255)
            labels = labels.to(device, non_blocking=True)
            with autocast:
                loss = F.cross_entropy(model(images), labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            running += loss.item()
        model.eval()
        with torch.no_grad():
            correct = sum((model(images.to(device).float().div_(255)).argmax(1).cpu() == labels).sum().item()
                          for images, labels in test_loader)
        model.train()
        sync(device)
        seconds.append(time.perf_counter() - started)
    return seconds


def step_rates(args, data, device, defect=None) -> dict:
    "Images/s of ours (`TrainStep`) and of the plain step, on the same device batches, timed alternately."
    g = torch.Generator().manual_seed(1)
    batches = [((torch.randint(0, 256, (args.batch_size, *data.image_shape), generator=g, dtype=torch.uint8).float() / 255)
                .to(device).contiguous(memory_format=torch.channels_last),
                torch.randint(0, 10, (args.batch_size,), generator=g).to(device)) for _ in range(4)]
    ours_model, profile = build(args, data, defect)
    ours = TrainStep(ours_model.to(device, memory_format=torch.channels_last).train(), profile, device)
    plain_model, _ = build(args, data, defect)
    plain_model.to(device, memory_format=torch.channels_last).train()
    optimizer = torch.optim.SGD(plain_model.parameters(), lr=profile.lr, momentum=profile.momentum, weight_decay=profile.weight_decay)
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else torch.autocast("cpu", enabled=False)

    def plain(images, labels):
        with autocast:
            loss = F.cross_entropy(plain_model(images), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    def timed(fn, n):
        sync(device)
        started = time.perf_counter()
        for i in range(n):
            fn(*batches[i % len(batches)])
        sync(device)
        return time.perf_counter() - started

    best = {"ours": float("inf"), "plain": float("inf")}
    for name, fn in (("ours", ours), ("plain", plain)):
        timed(fn, args.warmup_steps)
    for r in range(args.repeats):
        for name, fn in ((("ours", ours), ("plain", plain)) if r % 2 == 0 else (("plain", plain), ("ours", ours))):
            best[name] = min(best[name], timed(fn, args.steps))
    return {name: args.steps * args.batch_size / t for name, t in best.items()}


def _self_device_us(event) -> float:
    for name in ("self_device_time_total", "self_cuda_time_total"):
        if hasattr(event, name):
            return float(getattr(event, name))
    return 0.0


def traced(fn, device, rows: int = 12) -> dict:
    """Run `fn` under torch.profiler: wall seconds, busy seconds of the device and its top kernels, and the host's top ops.

    On CUDA the busy time is the sum of the device-side events (kernels, copies) alone: an aten op's "self device
    time" counts the kernels it launched, which appear again as events of their own. On the CPU it is the ops' self time."""
    from torch.autograd import DeviceType
    from torch.profiler import ProfilerActivity, profile

    on_cuda = device.type == "cuda"
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if on_cuda else [])
    sync(device)
    started = time.perf_counter()
    with profile(activities=activities) as prof:
        fn()
        sync(device)
    wall = time.perf_counter() - started
    events = prof.key_averages()
    if on_cuda:
        device_events = [e for e in events if e.device_type == DeviceType.CUDA]
        busy_of = _self_device_us
    else:
        device_events, busy_of = list(events), (lambda e: float(e.self_cpu_time_total))
    total = sum(busy_of(e) for e in device_events)
    top = sorted(device_events, key=busy_of, reverse=True)[:rows]
    host = sorted((e for e in events if e.device_type == DeviceType.CPU), key=lambda e: e.self_cpu_time_total, reverse=True)
    return dict(wall_seconds=wall, busy_seconds=total / 1e6, busy_fraction=total / 1e6 / wall if wall > 0 else float("nan"),
                kernel_launches=int(sum(e.count for e in device_events)) if on_cuda else None,
                top=[dict(op=e.key, calls=int(e.count), busy_ms=busy_of(e) / 1e3, cpu_ms=float(e.cpu_time_total) / 1e3,
                          share_of_busy=busy_of(e) / total if total else float("nan")) for e in top],
                host_top=[dict(op=e.key, calls=int(e.count), self_cpu_ms=float(e.self_cpu_time_total) / 1e3)
                          for e in host[:rows // 2]])


def print_trace(label: str, summary: dict):
    launches = f", {summary['kernel_launches']} kernels" if summary.get("kernel_launches") else ""
    print(f"  {label}: wall {summary['wall_seconds']:.2f} s, device busy {summary['busy_seconds']:.2f} s "
          f"({summary['busy_fraction']:.0%} of the wall time{launches})")
    for row in summary["top"]:
        print(f"    {row['busy_ms']:10.1f} ms  {row['share_of_busy']:6.1%}  {row['calls']:7d} calls  {row['op'][:70]}")
    if summary.get("host_top"):
        print("    host (self CPU time): " + ", ".join(f"{r['op'][:40]} {r['self_cpu_ms']:.0f} ms" for r in summary["host_top"]))


def steady(seconds: list[float]) -> float:
    "The best epoch after the first (the only one when there is one)."
    return min(seconds[1:]) if len(seconds) > 1 else seconds[0]


def write_json(results: dict, path):
    if path is None:
        return
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(results, f, indent=1)
    os.replace(tmp, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cuda = torch.cuda.is_available()
    parser.add_argument("--device", default="cuda" if cuda else "cpu")
    parser.add_argument("--dataset", choices=list(SHAPES), default="cifar10", help="shape and augmentation of the synthetic data")
    parser.add_argument("--n-images", type=int, default=None, help="training images (default: 50000 on CUDA, 512 on the CPU)")
    parser.add_argument("--n-test", type=int, default=None, help="test images evaluated after each epoch of ours (default: 1000 on CUDA, 128 on the CPU)")
    parser.add_argument("--width", type=float, default=None, help="channel multiplier (default: 1 on CUDA, 0.25 on the CPU)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=2, help="epochs per measured run (the first is a warm-up)")
    parser.add_argument("--steps", type=int, default=None, help="steps per step timing (default: 100 on CUDA, 2 on the CPU)")
    parser.add_argument("--warmup-steps", type=int, default=None, help="(default: 20 on CUDA, 1 on the CPU)")
    parser.add_argument("--repeats", type=int, default=None, help="step timings per implementation, best kept (default: 3 on CUDA, 1 on the CPU)")
    parser.add_argument("--workers", type=int, default=None, help="DataLoader workers of the plain loop (default: min(8, cores) on CUDA, 0 on the CPU)")
    parser.add_argument("--variants", default=None,
                        help="comma-separated extra epoch timings of ours: no-fused (SGD without its fused kernel), compile "
                             "(torch.compile), contiguous (no channels-last), eager (the step without its CUDA graph) "
                             "(default: eager,no-fused,compile on CUDA, none on the CPU)")
    parser.add_argument("--no-mask", action="store_true", help="skip the 0.1-Bottom (mask overhead) timings")
    parser.add_argument("--no-step", action="store_true", help="skip the step-alone timings")
    parser.add_argument("--adv-steps", default="", help="comma-separated PGD steps of adversarial-training epochs to time (e.g. 1,7)")
    parser.add_argument("--adv-images", type=int, default=10000, help="training images of each adversarial-training epoch")
    parser.add_argument("--threads", type=int, default=None, help="torch threads on the CPU (default: torch's)")
    parser.add_argument("--json", default=None, help="write the results to this JSON file (rewritten after each measurement)")
    parser.add_argument("--trace", action="store_true", help="also profile an epoch and the step of ours (torch.profiler) and say where the time goes")
    parser.add_argument("--trace-images", type=int, default=None, help="images of the traced epoch (default: 10000 on CUDA, 256 on the CPU)")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    on_cuda = device.type == "cuda"
    if args.threads:
        torch.set_num_threads(args.threads)
    defaults = dict(n_images=50000 if on_cuda else 512, n_test=1000 if on_cuda else 128, width=1.0 if on_cuda else 0.25,
                    steps=100 if on_cuda else 2, warmup_steps=20 if on_cuda else 1, repeats=3 if on_cuda else 1,
                    workers=min(8, os.cpu_count() or 1) if on_cuda else 0, variants="eager,no-fused,compile" if on_cuda else "",
                    trace_images=10000 if on_cuda else 256)
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.epochs < 1 or args.n_images < args.batch_size:
        parser.error(f"need --epochs >= 1 and --n-images >= --batch-size, got {args.epochs} and {args.n_images}")
    variants = [v for v in args.variants.split(",") if v]
    unknown = sorted(set(variants) - {"no-fused", "compile", "contiguous", "eager"})
    if unknown:
        parser.error(f"unknown variant(s) {', '.join(unknown)}; known: no-fused, compile, contiguous, eager")
    os.environ.setdefault("DEFECTIVE_CNN_QUIET", "1")

    data = synthetic_data(args.dataset, args.n_images, args.n_test)
    config = {k: v for k, v in vars(args).items() if k != "json"}
    results = dict(config=config, environment=environment_record(device), epoch={}, step={}, adversarial={}, errors={}, trace={})
    print(f"torch {torch.__version__}, {results['environment']['device_name']} ({device}), {torch.get_num_threads()} thread(s); "
          f"{args.n_images} {args.dataset}-shaped images {data.image_shape}, ResNet-18 width {args.width:g}, batch {args.batch_size}, "
          f"{args.epochs} epoch(s) per run", flush=True)

    def record(kind, name, value, line):
        results[kind][name] = value
        write_json(results, args.json)
        if line:
            print(line, flush=True)

    def epoch_line(label, seconds):
        best = steady(seconds)
        return (f"  epoch {label:<24} {args.n_images / best:9.0f} images/s   {best:7.2f} s/epoch"
                f"   (epochs: {', '.join(f'{s:.2f}' for s in seconds)} s)")

    print("whole epoch with augmentation:")
    ours = ours_epochs(args, data, device)
    record("epoch", "ours", ours, epoch_line("ours", ours))
    plain = plain_epochs(args, data, device, args.workers)
    record("epoch", "plain", plain, epoch_line(f"plain ({args.workers} workers)", plain))
    if not args.no_mask:
        masked = ours_epochs(args, data, device, "0.1-Bottom")
        record("epoch", "ours_0.1-Bottom", masked, epoch_line("ours, 0.1-Bottom", masked))
    if not args.no_step:
        print(f"step alone (batches already on the device; best of {args.repeats} x {args.steps} steps):")
        rates = step_rates(args, data, device)
        record("step", "standard", rates, f"  step  ours {rates['ours']:9.0f} images/s   plain {rates['plain']:9.0f} images/s")
        if not args.no_mask:
            masked_rates = step_rates(args, data, device, "0.1-Bottom")
            record("step", "0.1-Bottom", masked_rates,
                   f"  step  ours, 0.1-Bottom {masked_rates['ours']:9.0f} images/s   plain, 0.1-Bottom {masked_rates['plain']:9.0f} images/s")

    for steps in [int(s) for s in args.adv_steps.split(",") if s]:
        n = min(args.adv_images, args.n_images)
        adv_data = ImageData(data.name, data.train.subset(torch.arange(n)), data.test, data.classes, data.mean, data.augment)
        step_size = 8.0 if steps == 1 else 2.0
        seconds = ours_epochs(args, adv_data, device, adversarial=True, adv_steps=steps, adv_step_size=step_size, epochs=1)
        record("adversarial", f"pgd{steps}", dict(images=n, seconds=seconds[0], step_size=step_size),
               f"  adversarial training, {steps} step(s) of {step_size:g}: {n / seconds[0]:9.0f} images/s ({n} images, one epoch, "
               f"including its warm-up)")

    if args.trace:
        print("where the time goes (torch.profiler; timings under the profiler are slower than above):")
        n = min(args.trace_images, args.n_images)
        trace_data = ImageData(data.name, data.train.subset(torch.arange(n)), data.test, data.classes, data.mean, data.augment)
        epoch_trace = traced(lambda: ours_epochs(args, trace_data, device, epochs=1), device)
        record("trace", "epoch", epoch_trace, "")
        print_trace(f"one epoch of ours on {n} images (incl. building the model, warm-up and the test set)", epoch_trace)
        step_model, step_profile = build(args, data)
        step = TrainStep(step_model.to(device, memory_format=torch.channels_last).train(), step_profile, device)
        images = (torch.randint(0, 256, (args.batch_size, *data.image_shape), dtype=torch.uint8).float() / 255).to(device)
        labels = torch.randint(0, 10, (args.batch_size,)).to(device)
        for _ in range(args.warmup_steps):
            step(images.contiguous(memory_format=torch.channels_last), labels)
        step_trace = traced(lambda: [step(images.contiguous(memory_format=torch.channels_last), labels) for _ in range(args.steps)], device)
        record("trace", "step", step_trace, "")
        print_trace(f"{args.steps} steps of ours alone", step_trace)

    # the summary and goals first: the variants below may run out of time (compilation)
    ratio = steady(plain) / steady(ours)
    summary = dict(ours_images_per_s=args.n_images / steady(ours), plain_images_per_s=args.n_images / steady(plain),
                   ours_epoch_seconds=steady(ours), ours_over_plain_epoch=ratio)
    if not args.no_step:
        summary.update(ours_over_plain_step=rates["ours"] / rates["plain"])
    if not args.no_mask:
        summary.update(mask_overhead_epoch=steady(masked) / steady(ours))
    if not args.no_mask and not args.no_step:
        summary.update(mask_overhead_step=rates["ours"] / masked_rates["ours"])
    results["summary"] = summary
    write_json(results, args.json)
    print(f"ratio ours/plain: epoch {ratio:.2f}x" + (f", step {summary['ours_over_plain_step']:.2f}x" if not args.no_step else ""))
    if not args.no_mask:
        print(f"mask overhead (0.1-Bottom time / standard time, ours): epoch {summary['mask_overhead_epoch']:.3f}x"
              + (f", step {summary['mask_overhead_step']:.3f}x" if not args.no_step else ""))
    if on_cuda and args.dataset == "cifar10" and args.n_images == 50000 and args.width == 1.0:
        checks = [("epoch <= 3 s", summary["ours_epoch_seconds"] <= GOALS["epoch_seconds"], f"{summary['ours_epoch_seconds']:.2f} s"),
                  ("ours >= 1.5x plain", ratio >= GOALS["ours_over_plain"], f"{ratio:.2f}x")]
        if not args.no_mask:
            checks.append(("mask overhead <= 1.03x", summary["mask_overhead_epoch"] <= GOALS["mask_overhead"],
                           f"{summary['mask_overhead_epoch']:.3f}x"))
        results["goals"] = {name: dict(met=met, value=value) for name, met, value in checks}
        write_json(results, args.json)
        for name, met, value in checks:
            print(f"goal {name}: {'met' if met else 'MISSED'} ({value})")

    # last, as the slowest to start (compilation): what else might help, kept in the package only if it does
    overrides = {"no-fused": dict(fused_optimizer=False), "compile": dict(compile=True), "contiguous": dict(channels_last=False),
                 "eager": dict(cuda_graphs=False)}
    if variants:
        print("variants of ours (whole epoch):")
    for variant in variants:
        try:
            seconds = ours_epochs(args, data, device, **overrides[variant])
        except Exception as error:  # recorded and reported: one failing variant must not lose the other results
            record("errors", variant, f"{type(error).__name__}: {error}", f"  epoch ours, {variant}: FAILED ({type(error).__name__}: {error})")
            continue
        summary[f"{variant}_over_default_epoch_time"] = steady(seconds) / steady(ours)
        record("epoch", f"ours_{variant}", seconds, epoch_line(f"ours, {variant}", seconds) +
               (f"   first epoch (with compilation) {seconds[0]:.1f} s" if variant == "compile" else "") +
               f"   {summary[f'{variant}_over_default_epoch_time']:.3f}x the default's epoch time")

    return results


if __name__ == "__main__":
    main()
