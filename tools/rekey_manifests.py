"""Rekey committed manifests from format 2 (`sources`: module file -> hash of the whole module) to format 3 (`sources`:
definition name -> hash of that definition, `source_hashes`), without executing any run.

For each finished (status ok) format-2 manifest under papermill_runs/ (or the folder given): the module hashes it
records are compared with today's modules exactly as format 2 did (the modules its notebook imports, in turn, the runner,
the command line and `train` aside; SETTINGS' rows left out). Where every one matches, the package code the run executed
is today's, read as code, so its definitions' hashes are today's: `sources` is recomputed by definition. Where some
differ, the run was stale by module and stays so with the same reasons: its old `sources` are kept and the reasons go to
`stale_sources`, which `run_state` reports until the run is executed again. Each rekeyed manifest gets a `rekeyed` note
(when, from which format, how). Format-3 manifests and failed runs are left alone, so the script can be run again after
new format-2 runs land (e.g. runs executed with an older checkout).

    .venv/bin/python tools/rekey_manifests.py [--out papermill_runs] [--dry-run]
"""
import argparse
import json
import subprocess
import time
from pathlib import Path

from defective_cnn import freshness

# What format 2 left out: nbdev's files, how runs are started and shown (the runner, since split into freshness,
# terminal and execution; the command line), and `train`.
FORMAT2_NOT_HASHED = {"__init__", "_modidx", "runner", "cli", "train", "freshness", "terminal", "execution"}


def format2_used_modules(notebook, root: Path) -> list:
    "The module files format 2 hashed for a notebook: those its code imports and, in turn, those they import."
    modules = {p.stem for p in root.glob("*.py")}
    todo = freshness.package_imports(freshness._notebook_code(notebook), modules)
    seen = set()
    while todo:
        module = todo.pop()
        seen.add(module)
        todo |= freshness.package_imports((root / f"{module}.py").read_text(), modules) - seen
    return sorted(f"{m}.py" for m in seen - FORMAT2_NOT_HASHED)


def format2_module_changes(saved: dict, notebook, root: Path) -> list:
    "'module X.py' for each module whose hash differs from the manifest's, as format 2's `run_state` said."
    now = {name: freshness.code_hash((root / name).read_text(), "SETTINGS" if name == "settings.py" else None)
           for name in format2_used_modules(notebook, root)}
    then = saved.get("sources", {})
    return [f"module {m}" for m in sorted(set(now) | set(then)) if now.get(m) != then.get(m)]


def rekey(manifest: Path, nbs_dir: Path, root: Path, commit: str, today: str) -> str | None:
    "Rekey one manifest in place; what was done, or None when it is not a finished format-2 manifest."
    saved = json.loads(manifest.read_text())
    if not isinstance(saved, dict) or saved.get("format") != 2 or saved.get("status") != "ok" or "sources" not in saved:
        return None
    notebook = nbs_dir / saved.get("notebook", f"{saved['section']}.ipynb")
    stale = format2_module_changes(saved, notebook, root)
    note = dict(on=today, from_format=2)
    if stale:
        saved["stale_sources"] = stale
        note["how"] = (f"stale by module under format 2 ({', '.join(stale)} differ from the code of {commit}): its module hashes "
                       f"are kept in `sources` and those reasons in `stale_sources` until it is run again; not re-executed")
    else:
        saved["sources"] = freshness.source_hashes(notebook, root)
        note["how"] = (f"every module hash recorded matched the code of {commit} read as code, so the definitions it executed are "
                       f"that code's: `sources` recomputed by definition (freshness.source_hashes) from it; not re-executed")
    saved["format"] = 3
    saved["rekeyed"] = note
    manifest.write_text(json.dumps(saved, indent=1))
    return "stale, reasons kept: " + ", ".join(stale) if stale else "current: sources by definition"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=None, help="folder of the executed runs (default: the checkout's papermill_runs/)")
    parser.add_argument("--dry-run", action="store_true", help="say what would change, write nothing")
    args = parser.parse_args()
    where = freshness.locate(out_dir=args.out)
    root = Path(freshness.__file__).parent
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=where.checkout or ".").stdout.strip() or "?"
    today = time.strftime("%Y-%m-%d")
    for manifest in sorted(where.out_dir.glob("*/*.json")):
        if manifest.name.endswith(freshness.READS_SUFFIX) or not manifest.with_suffix(".ipynb").exists():
            continue
        if args.dry_run:
            saved = json.loads(manifest.read_text())
            if isinstance(saved, dict) and saved.get("format") == 2 and saved.get("status") == "ok":
                notebook = where.nbs_dir / saved.get("notebook", f"{saved['section']}.ipynb")
                print(manifest.relative_to(where.out_dir), "would be rekeyed;", format2_module_changes(saved, notebook, root) or "current")
            continue
        done = rekey(manifest, where.nbs_dir, root, commit, today)
        if done:
            print(f"{manifest.relative_to(where.out_dir)}: {done}")


if __name__ == "__main__":
    main()
