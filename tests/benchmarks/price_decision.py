"""The price of Table 4 (the decision section) on this machine's CPU, before deciding whether to run it here.

Run: .venv/bin/python tests/benchmarks/price_decision.py [--threads 2] [--steps 200] [--json F]

Times a short Boundary run (the package's `attacks.boundary`, Foolbox 3) of the `cpu` settings row on the trained
standard network of seed 1 (trained into the zoo if missing: about a minute at `cpu`), on the row's n_eval images it
classifies correctly, each started from a test image it labels otherwise. The price of one seed is the measured seconds
a step times the row's steps times its five networks (the same ResNet-18; masks, dropout and label smoothing add
little to a forward); HopSkipJump and the step study are not counted, so the price is a lower bound. The load average
is recorded: on a busy machine the price comes out too high. Not collected by pytest.
"""
import argparse
import json
import os
import time
from pathlib import Path

import torch

from defective_cnn.attacks import boundary
from defective_cnn.decision import decision_configs
from defective_cnn.records import environment_record
from defective_cnn.settings import SETTINGS, evaluation_images
from defective_cnn.zoo import get_model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=200, help="Boundary steps timed")
    parser.add_argument("--json", type=Path, help="write the result here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    row = SETTINGS["decision"]["cpu"]
    configs = decision_configs(dataset=row["dataset"], profile="cpu", seed=0)
    images, labels = evaluation_images(row["dataset"], "cpu", row["n_candidates"], seed=0)
    standard = get_model(configs[("Standard CNN", 1)], device="cpu").model.eval()
    with torch.no_grad():
        predicted = standard(images).argmax(1)
    right = torch.nonzero(predicted == labels).flatten()[:row["n_eval"]]
    x, y = images[right], labels[right]
    starts = torch.stack([images[torch.nonzero(predicted != c).flatten()[0]] for c in y])
    start = time.perf_counter()
    boundary(standard, x, y, steps=args.steps, seed=0, starting_points=starts, record_steps=[args.steps])
    step_seconds = (time.perf_counter() - start) / args.steps
    seed_hours = step_seconds * row["steps"] * len(configs) / 3600
    result = dict(images=len(x), networks=len(configs), steps=row["steps"], timed_steps=args.steps,
                  standard_step_seconds=step_seconds, hours_per_seed=seed_hours,
                  hours_three_seeds=3 * seed_hours, load_average=os.getloadavg(), environment=environment_record("cpu"))
    print(f"Boundary on the standard network: {step_seconds * 1000:.0f} ms a step on {len(x)} images; {row['steps']} "
          f"steps x {len(configs)} networks: {seed_hours:.1f} h a seed, {3 * seed_hours:.1f} h for three "
          f"(HopSkipJump not counted; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
