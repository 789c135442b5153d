"""Summary of a `gpu_check.sh` run: the benchmark's goals, the checks, and what the transfer section costs at
the gpu profile (six ResNet-18s and one adversarially trained one), estimated from the measured throughput.

Usage: python tests/benchmarks/gpu_summary.py OUT_DIR   (reads bench_cifar.json, bench_fashion.json, gpu_check.json)
"""
import json
import sys
from pathlib import Path

TRANSFER_STANDARD_NETWORKS = 6  # the transfer section's networks trained without adversarial training
BUDGET_SECONDS = 8 * 60  # the gpu profile's transfer section should take about this long on one H100
N_TRAIN = 60000  # Fashion-MNIST's training set


def load(folder: Path, name: str):
    path = folder / name
    if not path.exists():
        print(f"({name} is missing: that step did not finish)")
        return None
    return json.loads(path.read_text())


def steady(seconds):
    return min(seconds[1:]) if len(seconds) > 1 else seconds[0]


def main(folder) -> None:
    folder = Path(folder)
    cifar, fashion, check = load(folder, "bench_cifar.json"), load(folder, "bench_fashion.json"), load(folder, "gpu_check.json")
    print("== summary")
    if cifar:
        env = cifar["environment"]
        print(f"device: {env['device_name']}, torch {env['torch']}")
        s, c = cifar.get("summary", {}), cifar["config"]
        if s:
            print(f"CIFAR-shaped ResNet-18 epoch ({c['n_images']} images, augmentation, width {c['width']:g}, batch {c['batch_size']}): "
                  f"ours {s['ours_epoch_seconds']:.2f} s ({s['ours_images_per_s']:.0f} images/s), "
                  f"plain loop {c['n_images'] / s['plain_images_per_s']:.2f} s; "
                  f"ours/plain {s['ours_over_plain_epoch']:.2f}x epoch" +
                  (f", {s['ours_over_plain_step']:.2f}x step" if "ours_over_plain_step" in s else ""))
            if "mask_overhead_epoch" in s:
                print(f"mask overhead 0.1-Bottom/standard: {s['mask_overhead_epoch']:.3f}x epoch" +
                      (f", {s['mask_overhead_step']:.3f}x step" if "mask_overhead_step" in s else ""))
            for key, value in s.items():
                if key.endswith("_over_default_epoch_time"):
                    print(f"variant {key.split('_over_')[0]}: epoch time {value:.3f}x the default's")
        compile_seconds = cifar["epoch"].get("ours_compile")
        if compile_seconds:
            print(f"compile: first epoch {compile_seconds[0]:.1f} s (compilation included), then {steady(compile_seconds):.2f} s")
        for name, goal in cifar.get("goals", {}).items():
            print(f"goal {name}: {'met' if goal['met'] else 'MISSED'} ({goal['value']})")
        for name, error in cifar.get("errors", {}).items():
            print(f"variant {name} FAILED: {error}")
        for phase, trace in cifar.get("trace", {}).items():  # bench_train.py --trace: where the time goes
            top = ", ".join(f"{row['op']} {row['share_of_busy']:.0%}" for row in trace["top"][:5])
            print(f"trace {phase}: wall {trace['wall_seconds']:.2f} s, device busy {trace['busy_seconds']:.2f} s "
                  f"({trace['busy_fraction']:.0%}); busiest ops: {top}")
    packing = load(folder, "bench_packing.json") if (folder / "bench_packing.json").exists() else None
    if packing and "summary" in packing:  # bench_packing.py (gpu_scale.sh)
        runs = ", ".join(f"{r['gpus_per_job']:g} GPU/job {r['seconds']:.1f} s" + (f" ({len(r['failed'])} failed)" if r["failed"] else "")
                         for r in packing["runs"])
        s = packing["summary"]
        print(f"packing {packing['config']['n_networks']} {packing['config']['profile']}-profile networks: {runs}: "
              f"{s['speedup']:.2f}x; identical weights in {s['same_weights']} of {s['compared']}")
    for path in sorted(folder.glob("bench_models_*.json")):  # bench_models.py (gpu_scale.sh): step-only throughput
        models = json.loads(path.read_text())
        c = models["config"]
        print(f"training step at {c['input_size']} px x{c['channels']}, width {c['width']:g}, batch {c['batch']}: " +
              ", ".join(f"{r['arch']} {r['images_per_s']:.0f}" for r in models["rows"]) + " images/s")
    if check:
        for name, result in check["checks"].items():
            if name != "all":
                print(f"check {name}: {'ok' if result['ok'] else 'FAILED'}" +
                      (f" (clean test accuracy {result['test_acc']:.4f}, goal >= {result['goal']})" if name == "accuracy" else ""))
    if not (fashion and check and "accuracy" in check["checks"]):
        return
    metrics = check["checks"]["accuracy"]["metrics"]
    epochs = len(metrics)
    epoch_seconds = sorted(r["seconds"] for r in metrics)[len(metrics) // 2]
    bench_epoch = N_TRAIN / fashion["summary"]["ours_images_per_s"]
    evaluation = max(epoch_seconds - bench_epoch, 0.0)  # what an epoch of the real run adds: evaluating 10 000 test images
    print(f"gpu profile on Fashion-MNIST: {epoch_seconds:.2f} s per epoch (median of {epochs}, evaluation included), "
          f"{epochs * epoch_seconds:.0f} s per standard network")
    for name, adv in sorted(fashion.get("adversarial", {}).items()):
        adv_epoch = N_TRAIN * adv["seconds"] / adv["images"] + evaluation
        per_epoch = TRANSFER_STANDARD_NETWORKS * epoch_seconds + adv_epoch
        fits = int(BUDGET_SECONDS // per_epoch)
        steps = int(name[3:])
        print(f"transfer at the gpu profile with {steps}-step adversarial training (step {adv['step_size']:g}): "
              f"{adv_epoch:.1f} s per adversarial epoch; {epochs} epochs of the 7 networks take about "
              f"{epochs * per_epoch / 60:.1f} min (plus the attacks); {fits} epochs fit in {BUDGET_SECONDS // 60} min")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
