"""Accept a refactor in the committed manifests: record that named definitions whose code changed still compute what
they did, so the runs that reach them stay current without executing again (what `dvc commit` does for a change that
leaves a stage's outputs alone).

For each finished manifest under papermill_runs/ (or --out) whose run is stale *only* because the code of some of the
named definitions changed (`code X` for X in --names; no parameter, notebook, network, data, settings or run read
changed; a definition reached for the first time, or no longer reached, counts when named): `sources[X]` becomes
today's hash of each named X (or is dropped, where no longer reached), and an entry {on, commit, names, why, before}
is appended to the manifest's `refactors` list, which `describe_run` prints with the run (`defective-cnn run`, `show`). Every other
run is left as it is and said. --why says what shows that the code computes the same (the test comparing trained
weights, the run's own CSV recomputed, ...): it is kept with the results.

Run it on a checkout whose refactor is committed (the entry names that commit):

    .venv/bin/python tools/accept_refactor.py --names DefectiveMask build_model --why "..." [--dry-run]
"""
import argparse
import json
import subprocess
import time
from pathlib import Path

from defective_cnn import freshness
from defective_cnn.records import atomic_write_bytes


def accepted_changes(state, names: set) -> list | None:
    "The named definitions whose code change is all that makes `state`'s run stale, or None when anything else changed."
    if state.state != "stale" or not state.changed:
        return None
    changed = [reason.removeprefix("code ") for reason in state.changed]
    if not all(reason.startswith("code ") for reason in state.changed) or not set(changed) <= names:
        return None
    return changed


def accept(manifest: Path, notebook: Path, changed: list, why: str, commit: str, today: str) -> dict:
    "Rewrite `manifest` with today's hashes of `changed`; the entry appended to its `refactors`."
    saved = json.loads(manifest.read_text())
    now = freshness.source_hashes(notebook)
    entry = dict(on=today, commit=commit, names=sorted(changed), why=why, before={name: saved["sources"].get(name) for name in sorted(changed)})
    for name in changed:
        if name in now:
            saved["sources"][name] = now[name]
        else:
            saved["sources"].pop(name, None)
    saved["sources"] = dict(sorted(saved["sources"].items()))
    saved.setdefault("refactors", []).append(entry)
    atomic_write_bytes(manifest, json.dumps(saved, indent=1).encode())
    return entry


def _git(where, *args) -> str:
    out = subprocess.run(["git", *args], capture_output=True, text=True, cwd=where)
    return out.stdout.strip() if out.returncode == 0 else ""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--names", nargs="+", required=True, help="the definitions whose code changed without changing what it computes")
    parser.add_argument("--why", required=True, help="what shows that the code computes the same (kept in each manifest)")
    parser.add_argument("--out", default=None, help="folder of the executed runs (default: the checkout's papermill_runs/)")
    parser.add_argument("--dry-run", action="store_true", help="say what would change, write nothing")
    args = parser.parse_args(argv)
    if not args.why.strip():
        parser.error("--why is empty: say what shows that the refactored code computes the same")
    where = freshness.locate(out_dir=args.out)
    checkout = where.checkout or Path(".")
    if _git(checkout, "status", "--porcelain", "--", "defective_cnn", "nbs"):
        parser.error("the package or notebooks have uncommitted changes: commit the refactor first (its commit is recorded)")
    commit, today, names = _git(checkout, "rev-parse", "--short", "HEAD") or "?", time.strftime("%Y-%m-%d"), set(args.names)
    runs = freshness.load_runs(where.runs_file)
    states = freshness.named_run_states(runs, where.nbs_dir, where.out_dir, check_data=False)
    accepted = 0
    for state in states:
        name = f"{state.section}/{state.run}"
        changed = accepted_changes(state, names)
        if changed is None:
            if state.state == "stale":
                print(f"{name}: left stale ({', '.join(state.changed)})")
            continue
        manifest = where.out_dir / state.section / f"{state.run}.json"
        if "stale_sources" in json.loads(manifest.read_text()):
            print(f"{name}: left stale (stale by module since its rekeying)")
            continue
        accepted += 1
        if args.dry_run:
            print(f"{name}: would accept {', '.join(changed)}")
        else:
            accept(manifest, where.nbs_dir / f"{state.section}.ipynb", changed, args.why, commit, today)
            print(f"{name}: accepted {', '.join(changed)}")
    print(f"{accepted} run(s) {'would be' if args.dry_run else ''} accepted".replace("  ", " "))


if __name__ == "__main__":
    main()
