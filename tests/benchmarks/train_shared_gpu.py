"""Train the networks of named runs that the zoo lacks, in several processes sharing one GPU (each takes every k-th
network), for a device where Ray is not installed. The zoo's locks keep two processes from training one network.

    python tests/benchmarks/train_shared_gpu.py decision --run cpu --processes 3
"""
import argparse
import subprocess
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sections", nargs="+")
    parser.add_argument("--run", default=None, help="a named run of runs.yaml (default: every run of the sections)")
    parser.add_argument("--profile", default=None, help="ad-hoc runs at this profile instead of the named runs")
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--share", type=int, default=None, help=argparse.SUPPRESS)  # internal: train this share
    args = parser.parse_args()
    from defective_cnn.cli import plan_jobs
    from defective_cnn.plan import plan_networks
    from defective_cnn.zoo import get_models

    networks = plan_networks(plan_jobs(args.sections, args.run, args.profile))
    if args.share is not None:
        get_models(dict(list(networks.items())[args.share :: args.processes]))
        return 0
    started = time.time()
    print(f"{len(networks)} networks in {args.processes} processes", flush=True)
    command = [sys.executable, __file__, *args.sections, "--processes", str(args.processes)]
    command += (["--run", args.run] if args.run else []) + (["--profile", args.profile] if args.profile else [])
    shares = [subprocess.Popen(command + ["--share", str(k)]) for k in range(args.processes)]
    codes = [p.wait() for p in shares]
    print(f"done in {time.time() - started:.0f} s; exit codes {codes}", flush=True)
    return max(codes)


if __name__ == "__main__":
    sys.exit(main())
