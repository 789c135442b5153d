"""GPU checks of issue 14 that need the real data: `train` is deterministic and resumes exactly on CUDA, and
the `gpu` profile's standard ResNet-18 on the whole of Fashion-MNIST reaches the expected clean accuracy.

Usage (on the device; Fashion-MNIST where `load_dataset` finds it, e.g. DEFECTIVE_CNN_DATA=<folder of the 4 IDX files>):
  python tests/benchmarks/gpu_check.py --json results.json
  python tests/benchmarks/gpu_check.py --smoke        (a seconds-long CPU rehearsal: tiny sizes, no accuracy goal)
Prints each check and writes the results (rewritten after each check) to --json. Exit status 1 if a check fails.
"""
import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import torch

from defective_cnn.data import load_dataset
from defective_cnn.records import environment_record
from defective_cnn.train import train
from defective_cnn.zoo import ModelConfig, build_untrained, get_model

EXPECTED_ACCURACY = 0.93  # a standard ResNet-18 on Fashion-MNIST; the gpu profile's 15 epochs should pass it


class Interrupted(Exception):
    pass


def same_state(a, b) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k].cpu(), sb[k].cpu()) for k in sa)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", default=None)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes on whatever device there is (a rehearsal)")
    parser.add_argument("--n-check", type=int, default=5000, help="training images of the determinism and resume checks")
    parser.add_argument("--skip-accuracy", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("DEFECTIVE_CNN_QUIET", "1")
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.type != "cuda" and not args.smoke:
        print("gpu_check: no CUDA device (use --smoke for a CPU rehearsal)", file=sys.stderr)
        return 2
    small = dict(width=0.125, batch_size=64) if args.smoke else {}
    n_check = 256 if args.smoke else args.n_check
    results = dict(environment=environment_record(device), checks={})
    failed = []

    def record(name, value, ok, line):
        results["checks"][name] = dict(value, ok=ok)
        if args.json:
            Path(args.json).parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(args.json).with_suffix(".tmp")
            tmp.write_text(json.dumps(results, indent=1))
            os.replace(tmp, args.json)
        if not ok:
            failed.append(name)
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {line}", flush=True)

    print(f"torch {torch.__version__}, {results['environment']['device_name']} ({device})", flush=True)
    started = time.perf_counter()
    check_data = load_dataset("fashion-mnist", n_train=n_check, n_test=min(1000, n_check), seed=0)
    config = ModelConfig("resnet18", "0.1-Bottom", dataset="fashion-mnist", profile="gpu",
                         overrides=dict(small, epochs=2, milestones=(1,), n_train=n_check, n_test=min(1000, n_check)))
    profile = config.train_profile()

    def fresh():
        return build_untrained(config, check_data.image_shape, check_data.num_classes, check_data.mean)

    first, second = fresh(), fresh()
    rows_first = train(first, check_data, profile, seed=0, device=device, progress=False)
    rows_second = train(second, check_data, profile, seed=0, device=device, progress=False)
    same = same_state(first, second) and [r["train_loss"] for r in rows_first] == [r["train_loss"] for r in rows_second]
    record("deterministic", dict(train_loss=[r["train_loss"] for r in rows_first], seconds=[r["seconds"] for r in rows_first]), same,
           f"two 2-epoch runs of a 0.1-Bottom ResNet-18 from seed 0 on {n_check} images: "
           f"{'identical weights and losses' if same else 'DIFFERENT weights or losses'}")

    def stop_after_first(epoch, row):
        if epoch == 1:
            raise Interrupted

    run_dir = Path(tempfile.mkdtemp())
    try:
        train(fresh(), check_data, profile, seed=0, run_dir=run_dir, device=device, progress=False, on_epoch_end=stop_after_first)
    except Interrupted:
        pass  # the interruption this check makes on purpose
    resumed = fresh()
    train(resumed, check_data, profile, seed=0, run_dir=run_dir, device=device, progress=False)
    same = same_state(resumed, first)
    record("resume", {}, same, f"stopped after epoch 1 and resumed: {'the same weights' if same else 'DIFFERENT weights'} "
                               f"as the uninterrupted run")

    if not args.skip_accuracy:
        overrides = dict(small, epochs=1, n_train=512, n_test=256) if args.smoke else {}
        full = ModelConfig("resnet18", None, dataset="fashion-mnist", profile="gpu", overrides=overrides)
        zoo = Path(tempfile.mkdtemp())
        trained = get_model(full, zoo_dir=zoo, device=device)
        metrics = trained.metrics
        for row in metrics:
            print(f"  epoch {row['epoch']:>2}: loss {row['train_loss']:.4f}, train {row['train_acc']:.4f}, "
                  f"test {row['test_acc']:.4f}, lr {row['lr']:.4g}, {row['seconds']:.2f} s", flush=True)
        seconds = [row["seconds"] for row in metrics]
        goal = 0.0 if args.smoke else EXPECTED_ACCURACY
        record("accuracy", dict(config=full.name, metrics=metrics, test_acc=trained.test_acc, goal=goal),
               trained.test_acc >= goal,
               f"gpu profile, standard ResNet-18, {len(metrics)} epochs on {full.train_profile().n_train or 'all'} "
               f"Fashion-MNIST training images: clean test accuracy {trained.test_acc:.4f} (goal >= {goal}); "
               f"{sum(seconds):.1f} s training, {sorted(seconds)[len(seconds) // 2]:.2f} s per epoch (median)")
    results["seconds"] = time.perf_counter() - started
    record("all", {}, not failed, f"{len(failed)} failed check(s) {failed}, {results['seconds']:.0f} s in all")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
