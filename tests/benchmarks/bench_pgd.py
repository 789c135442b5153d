"""PGD-20 throughput, ours against torchattacks, on the same model and images in one run.

Usage: .venv/bin/python tests/benchmarks/bench_pgd.py [--images 256] [--repeats 5] [--threads 1] [--device cpu]

Prints images/s for each implementation (best of the repeats, the two runs interleaved), their ratio
(ours / torchattacks; the goal is >= 1.0) and the largest absolute difference between the two outputs.
Not a test: timings depend on the machine and its load.
"""
import argparse
import os
import sys
import time

import torch

from defective_cnn.toy import digits, trained_tiny  # noqa: E402

from defective_cnn.attacks import pgd  # noqa: E402


def narrow_resnet(num_classes=10):
    "A quarter-width defective ResNet-18 (0.1-Bottom) from defective_cnn.models when that module has one, else None."
    try:
        from defective_cnn.models import build_model
    except ImportError:
        return None
    try:
        return build_model("resnet18", "0.1-Bottom", num_classes=num_classes, width=0.25, seed=0)
    except (TypeError, ValueError) as error:
        print(f"(defective_cnn.models.build_model failed: {error})")
        return None


def time_it(fn, sync):
    sync()
    start = time.perf_counter()
    out = fn()
    sync()
    return time.perf_counter() - start, out


def bench(label, model, images, labels, repeats, sync, eps=16, step=1, steps=20):
    import torchattacks

    ours_fn = lambda: pgd(model, images, labels, eps=eps, step_size=step, steps=steps)
    theirs_attack = torchattacks.PGD(model, eps=eps / 255, alpha=step / 255, steps=steps, random_start=False)
    theirs_fn = lambda: theirs_attack(images, labels)
    ours_fn(), theirs_fn()  # warm-up
    ours_times, theirs_times = [], []
    for r in range(repeats):
        pairs = [(ours_fn, ours_times), (theirs_fn, theirs_times)]
        for fn, times in pairs if r % 2 == 0 else pairs[::-1]:
            t, out = time_it(fn, sync)
            times.append(t)
            if fn is ours_fn:
                ours_out = out
            else:
                theirs_out = out
    n = len(images)
    ours_ips, theirs_ips = n / min(ours_times), n / min(theirs_times)
    max_diff = (ours_out - theirs_out).abs().max().item()
    with torch.no_grad():
        acc = (model(ours_out).argmax(1) == labels).float().mean().item()
    print(f"{label}: PGD-{steps} (eps {eps}, step {step}) on {n} images, best of {repeats}")
    print(f"  ours          {ours_ips:9.1f} images/s")
    print(f"  torchattacks  {theirs_ips:9.1f} images/s")
    print(f"  ratio ours/torchattacks = {ours_ips / theirs_ips:.3f}   max |ours - torchattacks| = {max_diff:.3g}"
          f"   identical: {torch.equal(ours_out, theirs_out)}   accuracy under attack {acc:.3f}")
    return ours_ips / theirs_ips, max_diff


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    train_x, train_y, test_x, test_y = digits(n_train=2000, n_test=args.images)
    print(f"torch {torch.__version__}, device {device}, {torch.get_num_threads()} thread(s)")
    model = trained_tiny(train_x, train_y, keep_prob=0.5).to(device)
    bench("tiny defective CNN (MNIST 28x28)", model, test_x.to(device), test_y.to(device), args.repeats, sync)
    resnet = narrow_resnet()
    if resnet is not None:
        resnet = resnet.to(device).eval()
        x = torch.rand(min(args.images, 64), 3, 32, 32, generator=torch.Generator().manual_seed(0)).to(device)
        with torch.no_grad():
            y = resnet(x).argmax(1)
        bench("quarter-width 0.1-Bottom ResNet-18 from defective_cnn.models (untrained, CIFAR-sized 32x32)", resnet, x, y, args.repeats, sync)
    else:
        print("(no ResNet-18 from defective_cnn.models: skipped)")


if __name__ == "__main__":
    main()
