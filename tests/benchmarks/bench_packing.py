"""Packing networks onto one GPU with Ray (issue 13): the wall time of training the same networks with
`--gpus-per-job 1` (one network on the GPU at a time) against fractions of a GPU (several at once), in one run.

Run: python tests/benchmarks/bench_packing.py [--profile cpu] [--n-networks 8] [--gpus-per-job 1,0.25] [--json FILE]

Each setting trains all the networks into a fresh, empty zoo (so both train the same work) through
`plan.train_plan(executor="ray")`, which starts a local Ray on 127.0.0.1 and stops it again; the wall time
includes Ray's start. Afterwards the weights of each network are compared between the settings (on one
device and seed, training is deterministic, so packing must not change them). On a machine without a GPU,
pass `--gpus-per-job 0` and `--cpus-per-job` (it then measures CPU packing). Not collected by pytest.
"""
import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import torch

from defective_cnn.plan import train_plan
from defective_cnn.records import default_device, environment_record
from defective_cnn.zoo import model_config

DEFECTS = (None, "0.1-Bottom", "0.3-Bottom", "0.5-Bottom")  # the keep-probability sweep's ResNet-18s


def networks(n: int, profile: str, dataset: str) -> dict:
    "`n` ResNet-18 configs of `profile`: the defects above, then again with the next seed."
    configs = [model_config("resnet18", defect, dataset=dataset, profile=profile, seed=seed)
               for seed in range(1, n // len(DEFECTS) + 2) for defect in DEFECTS][:n]
    return {config.name: config for config in configs}


def same_weights(zoo_a: Path, zoo_b: Path) -> tuple[int, int]:
    "How many of the networks stored in both zoos have identical weights, of how many stored in both."
    a = {p.parent.name: p for p in zoo_a.glob("*/checkpoint.pt")}
    b = {p.parent.name: p for p in zoo_b.glob("*/checkpoint.pt")}
    same = 0
    for name in sorted(set(a) & set(b)):
        sa, sb = (torch.load(p, map_location="cpu", weights_only=True) for p in (a[name], b[name]))
        sa, sb = sa["model"], sb["model"]
        same += sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)
    return same, len(set(a) & set(b))


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--n-networks", type=int, default=8)
    parser.add_argument("--gpus-per-job", default="1,0.25", help="comma-separated settings, each timed on its own empty zoo")
    parser.add_argument("--cpus-per-job", type=int, default=1)
    parser.add_argument("--num-cpus", type=int, default=None, help="CPUs the local Ray offers (default: all)")
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    settings = [float(g) for g in args.gpus_per_job.split(",") if g]
    if any(g > 0 for g in settings) and not torch.cuda.is_available():
        parser.error(f"--gpus-per-job {args.gpus_per_job} asks for a GPU, and torch sees none; use --gpus-per-job 0 on the CPU")
    configs = networks(args.n_networks, args.profile, args.dataset)
    print(f"{len(configs)} networks ({args.profile} profile, {args.dataset}): {', '.join(configs)}", flush=True)
    results = dict(config=vars(args), environment=environment_record(default_device()), runs=[])
    root = Path(tempfile.mkdtemp(prefix="bench_packing_"))
    for i, g in enumerate(settings):
        zoo = root / f"zoo_{i}_gpus_{g:g}"
        started = time.perf_counter()
        rows = train_plan(configs, executor="ray", zoo_dir=zoo, gpus_per_job=g, cpus_per_job=args.cpus_per_job,
                          num_cpus=args.num_cpus, max_retries=0, log=lambda line: print(f"  [{g:g} GPU/job] {line}", flush=True))
        seconds = time.perf_counter() - started
        failed = [r["name"] for r in rows if r["error"]]
        results["runs"].append(dict(gpus_per_job=g, zoo=str(zoo), seconds=seconds, failed=failed,
                                         test_acc={r["name"]: r["test_acc"] for r in rows},
                                         minutes={r["name"]: r["minutes"] for r in rows}))
        print(f"gpus-per-job {g:g}: {len(rows) - len(failed)} networks trained in {seconds:.1f} s"
              + (f"; FAILED: {', '.join(failed)}" if failed else ""), flush=True)
    if len(settings) >= 2:
        first, last = results["runs"][0], results["runs"][-1]
        same, both = same_weights(Path(first["zoo"]), Path(last["zoo"]))
        results["summary"] = dict(speedup=first["seconds"] / last["seconds"], same_weights=same, compared=both)
        print(f"packing: {settings[0]:g} GPU/job {first['seconds']:.1f} s, {settings[-1]:g} GPU/job {last['seconds']:.1f} s: "
              f"{first['seconds'] / last['seconds']:.2f}x faster packed; identical weights in {same} of {both} networks "
              f"on {results['environment'].get('device_name', '?')}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str))
    return results


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
