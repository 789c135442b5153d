"""One chunk of the gpu sweep (plan.gpu_chunks over papermill_runs/runs.yaml): print its plan, train its networks in
several processes sharing the GPU, or print the runner command lines of its runs. Used by gpu_chunk.sh.

    python tests/benchmarks/gpu_chunk.py 3 --plan
    python tests/benchmarks/gpu_chunk.py 3 --train --processes 3 [--profile smoke]
    python tests/benchmarks/gpu_chunk.py 3 --commands [--profile smoke --out DIR]
"""
import argparse
import shlex
import subprocess
import sys
import time
from pathlib import Path

RUNS_FILE = Path(__file__).resolve().parents[2] / "papermill_runs" / "runs.yaml"


def chunk_jobs_of(number: int, profile):
    from defective_cnn.plan import chunk_jobs, gpu_chunks
    from defective_cnn.freshness import load_runs

    chunks = gpu_chunks(load_runs(RUNS_FILE))
    return chunks, chunk_jobs(chunks, number, profile)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chunk", type=int, help="chunk number (1-based, as `format_chunks` prints them)")
    parser.add_argument("--profile", default=None, help="run the chunk's runs ad hoc at this profile (e.g. smoke) instead")
    parser.add_argument("--out", default=None, help="with --profile: the folder the runner writes to (a scratch folder)")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--plan", action="store_true", help="print every chunk, then this chunk's networks")
    what.add_argument("--train", action="store_true", help="train this chunk's networks that the zoo lacks")
    what.add_argument("--commands", action="store_true", help="print one `defective-cnn run` argument line per run")
    what.add_argument("--count", action="store_true", help="print the number of chunks")
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--share", type=int, default=None, help=argparse.SUPPRESS)  # internal: train this share
    args = parser.parse_args()
    chunks, jobs = chunk_jobs_of(args.chunk, args.profile)
    if args.count:
        print(len(chunks))
        return 0
    if args.commands:
        for section, run, params in jobs:
            if args.profile:  # ad hoc: the run's name and seed, the profile's size, into a scratch folder
                extra = [f"-p seed={params['seed']}"] if "seed" in params else []
                print(" ".join(["run", section, "--run", run, "--profile", args.profile, *extra, "--force"]
                               + (["--out", shlex.quote(args.out)] if args.out else [])))
            else:
                print(f"run {section} --run {run} --force")
        return 0
    from defective_cnn.plan import format_chunks, format_plan, plan_networks, plan_rows
    from defective_cnn.zoo import get_models

    networks = plan_networks(jobs)
    if args.plan:
        print(format_chunks(chunks))
        print(f"\nchunk {args.chunk}" + (f" at profile {args.profile}" if args.profile else "") + ":")
        print(format_plan(plan_rows(networks)))
        return 0
    if args.share is not None:
        get_models(dict(list(networks.items())[args.share :: args.processes]))
        return 0
    started = time.time()
    print(f"chunk {args.chunk}: {len(networks)} networks in {args.processes} processes", flush=True)
    command = [sys.executable, __file__, str(args.chunk), "--train", "--processes", str(args.processes)]
    command += ["--profile", args.profile] if args.profile else []
    shares = [subprocess.Popen(command + ["--share", str(k)]) for k in range(args.processes)]
    codes = [p.wait() for p in shares]
    print(f"done in {time.time() - started:.0f} s; exit codes {codes}", flush=True)
    return max(codes)


if __name__ == "__main__":
    sys.exit(main())
