"""Build the documentation site (`make docs`) from the notebooks, the committed runs and docs/*.md, without Quarto.

nbdev's own `nbdev_docs` renders with Quarto, which cannot be installed from PyPI. This script uses nbdev's notebook
processors (the ones `nbdev.serve.proc_nbs` applies: hidden and exported cells dropped, a `show_doc` cell added after
each exported definition) and renders the result with Sphinx + myst-nb, execution off: every page shows the outputs
committed in the notebooks. Quarto-only marks are mapped on the way:

- `#| echo: false` → the cell tag `remove-input`; `#| output: false` → `remove-output`; `#| include: false` → `remove-cell`;
  every other `#|` line (`code-fold`, `output: asis`, `slow`, `gpu`, ...) is dropped from the shown source;
- the `show_doc(name)` cells are not run in a kernel (nbdev's `exec_show_docs` re-runs every cell that imports
  something, which fails in these notebooks where test cells import and use names from earlier cells): each name is
  looked up in the notebook's exported module and `show_doc`'s Markdown becomes the cell's output, tagged `api`;
- pandoc marks are stripped from Markdown: `::: {.…}` fenced-div lines and `{target=…}` attribute blocks, and the
  `[source](…)` link of `show_doc` (it points at a repository host that the offline site does not have);
- a notebook's YAML front-matter raw cell (`skip_exec: true`, ...) is dropped.

Layout of the site (paths mirror the repository, so relative links between README, docs/*.md and notebooks work):
`index.html` (docs/index.md + the tables of contents), `README.html`, `docs/<page>.html`, `nbs/<NN_name>.html` (library
notebooks), `papermill_runs/<section>/<run>.html` (committed runs: the `cpu` run is the section's page, its other runs are
its subpages).

Usage: python docs/build_site.py [--out _site] [--work _site_src]
"""
from __future__ import annotations

import argparse
import ast
import importlib
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
MAIN_RUN = "cpu"  # the run that is a section's page; the others are listed on it

_DIRECTIVE = re.compile(r"^\s*#\|\s*([\w-]+)\s*:?\s*(.*?)\s*$")
_FENCED_DIV = re.compile(r"^\s*:::+\s*(\{.*\})?\s*$", re.MULTILINE)
_PANDOC_ATTRS = re.compile(r"(\]\([^)]*\))\{[^}\n]*\}")  # [text](url){target="_blank" ...} -> [text](url)
_SOURCE_LINK = re.compile(r"^\[source\]\([^)]*\)(\{[^}\n]*\})?\s*$\n?", re.MULTILINE)
_FRONTMATTER = re.compile(r"^\s*---\s*\n.*?\n---\s*$", re.DOTALL)
_DEFAULT_EXP = re.compile(r"^\s*#\|\s*default_exp\s+(\S+)", re.MULTILINE)


def library_notebooks(repo: Path = REPO) -> list[Path]:
    "The numbered library notebooks nbs/NN_*.ipynb."
    return sorted(p for p in (repo / "nbs").glob("*.ipynb") if p.name[0].isdigit())


def section_runs(repo: Path = REPO) -> dict[str, list[Path]]:
    "Each section's committed runs papermill_runs/<section>/*.ipynb, its main (`cpu`) run first; hidden (running) files left out."
    runs = {}
    for folder in sorted(p for p in (repo / "papermill_runs").iterdir() if p.is_dir()):
        found = sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))
        if found:
            runs[folder.name] = sorted(found, key=lambda p: (p.stem != MAIN_RUN, p.stem))
    return runs


def markdown_pages(repo: Path = REPO) -> list[Path]:
    "The Markdown pages docs/*.md, but the index (its text opens the site's index page)."
    return sorted(p for p in (repo / "docs").glob("*.md") if p.name != "index.md")


def _directives(source: str) -> tuple[dict[str, str], str]:
    "Split a code cell's leading `#|` lines off: ({name: value}, the rest of the source)."
    lines, found = source.splitlines(), {}
    while lines and (m := _DIRECTIVE.match(lines[0])):
        found[m.group(1).lower()] = m.group(2)
        lines.pop(0)
    return found, "\n".join(lines)


def clean_markdown(text: str) -> str:
    "Strip pandoc-only marks: fenced-div lines, attribute blocks after links, show_doc's [source] link."
    return _PANDOC_ATTRS.sub(r"\1", _FENCED_DIV.sub("", _SOURCE_LINK.sub("", text)))


def _tag(cell: dict, tag: str):
    tags = cell.setdefault("metadata", {}).setdefault("tags", [])
    if tag not in tags:
        tags.append(tag)


def map_quarto_marks(cell: dict) -> dict | None:
    "A processed cell as myst-nb reads it (Quarto directives as tags, pandoc marks stripped); None drops the cell."
    source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
    if cell["cell_type"] == "raw":
        return None if _FRONTMATTER.fullmatch(source.strip()) else cell
    if cell["cell_type"] == "markdown":
        cell["source"] = clean_markdown(source)
        return cell if cell["source"].strip() else None
    found, cell["source"] = _directives(source)
    if found.get("include") == "false":
        return None
    if found.get("echo") == "false":
        _tag(cell, "remove-input")
    if found.get("output") == "false":
        _tag(cell, "remove-output")
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        if "text/markdown" in data:
            text = data["text/markdown"]
            data["text/markdown"] = clean_markdown(text if isinstance(text, str) else "".join(text))
    return cell


def _show_doc_markdown(source: str, namespace: dict) -> str:
    "Markdown of a `show_doc(name)` cell, the name looked up in `namespace` (the exported module's names)."
    from nbdev.showdoc import show_doc

    call = ast.parse(source.strip()).body[-1].value
    target = eval(compile(ast.Expression(call.args[0]), "<show_doc>", "eval"), dict(namespace))
    markdown = show_doc(target)._repr_markdown_()
    return re.sub(r"^\s*---\s*\n", "", markdown)  # its leading rule: a docutils transition, not allowed inside an output


def process_notebook(path: Path, library: str | None = None) -> dict:
    """Notebook `path` processed by nbdev's processors (as `proc_nbs` does, without Quarto's front matter, warning cell and
    links to the doc host, and without re-running cells) with its Quarto marks mapped for myst-nb. `library`: the package
    whose `default_exp` module the `show_doc` cells document."""
    from execnb.nbio import read_nb
    from nbdev import processors as P
    from nbdev.process import NBProcessor

    nb = read_nb(path)
    procs = [P.populate_language, P.add_show_docs, P.strip_ansi, P.hide_line, P.filter_stream_, P.rm_header_dash,
             P.clean_show_doc, P.rm_export, P.clean_magics, P.hide_, P.mv_exports, P.strip_hidden_metadata]
    default_exp = next((m.group(1) for c in nb.cells if c.cell_type == "code" for m in [_DEFAULT_EXP.search(c.source)] if m), None)
    NBProcessor(path, procs, nb=nb).process()
    namespace = vars(importlib.import_module(f"{library}.{default_exp}")) if library and default_exp else {}
    cells = []
    for original in nb.cells:
        if original.get("source") is None:  # nbdev deletes the source of the cells it drops
            continue
        # NBProcessor took the cell's own leading `#|` lines off into directives_ ({'echo:': ['false'], ...}): put them back
        # in front so that map_quarto_marks sees them beside those the processors added
        marks = "".join(f"#| {k.rstrip(':')}: {' '.join(v)}\n" for k, v in (original.get("directives_") or {}).items())
        cell = json.loads(json.dumps({k: v for k, v in original.items() if not k.endswith("_")}))  # plain dicts from here on
        if cell["cell_type"] == "code" and marks:
            cell["source"] = marks + cell["source"]
        if cell["cell_type"] == "code" and P._re_showdoc.search(cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])):
            _, call = _directives(cell["source"])
            if not namespace:
                raise ValueError(f"{path.name}: a show_doc cell ({call!r}) but no `#| default_exp` module to look its name up in")
            cell["outputs"] = [{"output_type": "display_data", "metadata": {}, "data": {"text/markdown": _show_doc_markdown(call, namespace)}}]
            cell["execution_count"] = None
            _tag(cell, "api")
        cell.pop("has_sd", None)
        cell.setdefault("metadata", {})
        if cell["cell_type"] == "code":
            cell.setdefault("outputs", [])
            cell.setdefault("execution_count", None)
        if (mapped := map_quarto_marks(cell)) is not None:
            cells.append(mapped)
    for number, cell in enumerate(cells):
        cell.setdefault("id", f"docs-{number}")  # the cells nbdev added (show_doc) have none; nbformat 4.5 wants one
    metadata = json.loads(json.dumps(nb.get("metadata", {})))
    metadata.setdefault("kernelspec", {"name": "python3", "display_name": "Python 3", "language": "python"})
    metadata.setdefault("language_info", {"name": "python"})  # nbdev_clean drops it; myst-nb needs it to highlight code
    return dict(nbformat=4, nbformat_minor=5, metadata=metadata, cells=cells)


FRONT = "<!-- front -->"  # where docs/index.md takes the README's claims table and its figure
_CLAIMS_BLOCK = re.compile(r"<!-- claims:begin -->\n(.*?)<!-- claims:end -->\n+(!\[[^\]]*\]\([^)]*\))?", re.S)


def front_page(repo: Path = REPO) -> str:
    """What the README opens on, for the site's first page: its claims table (the generated block, with the rule and sentences
    under it) and the figure after it, under the README's heading for them; '' without a README or a claims block."""
    readme = repo / "README.md"
    found = _CLAIMS_BLOCK.search(readme.read_text(encoding="utf-8")) if readme.exists() else None
    if not found:
        return ""
    figure = f"\n\n{found.group(2)}" if found.group(2) else ""
    return "## What the paper claims, and what our runs say\n\n" + found.group(1).strip() + figure + "\n"


def index_text(repo: Path = REPO, library: str = "defective_cnn") -> str:
    "docs/index.md with the README's claims table and figure in place of its `<!-- front -->` mark (at the end without one)."
    index = (DOCS / "index.md").read_text(encoding="utf-8") if (DOCS / "index.md").exists() else f"# {library}\n"
    front = front_page(repo)
    return index.replace(FRONT, front) if FRONT in index else index + "\n" + front


def _markdown_cell(text: str, cell_id: str) -> dict:
    return dict(cell_type="markdown", id=cell_id, metadata={}, source=text)


def _run_title(nb: dict, fallback: str) -> str:
    "The first `# heading` of a notebook."
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown" and (m := re.search(r"^#\s+(.+?)\s*$", cell["source"], re.MULTILINE)):
            return m.group(1)
    return fallback


def _retitle(nb: dict, title: str):
    "Replace the first `# heading` of a notebook by `title` (a non-main run's page names its run)."
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown" and re.search(r"^#\s+.+$", cell["source"], re.MULTILINE):
            cell["source"] = re.sub(r"^#\s+.+$", lambda _: f"# {title}", cell["source"], count=1, flags=re.MULTILINE)
            return
    nb["cells"].insert(0, _markdown_cell(f"# {title}", "docs-title"))


def mark_code_drift(stage_dir: Path, repo: Path = REPO):
    """A note at the top of each staged run page whose executed notebook holds other code than its section notebook today
    (`terminal.code_drift`, read as code): which cells differ, when it ran, its manifest's migrated/restamped notes, and the
    diff, folded. Runs whose code is today's get no note."""
    from defective_cnn.terminal import code_drift

    for section, runs in section_runs(repo).items():
        for run in runs:
            drift = code_drift(section, run.stem, repo / "papermill_runs", repo / "nbs")
            staged = stage_dir / "papermill_runs" / section / run.name
            if not drift.drifted or not staged.exists():
                continue
            nb = json.loads(staged.read_text(encoding="utf-8"))
            fence = "`" * max([3] + [len(run) + 1 for run in re.findall(r"`+", drift.diff)])  # longer than any in the code
            note = (f"\n\n````{{warning}}\n**Not today's code.** {drift.summary()}\n````\n\n<details><summary>The code cells that differ "
                    f"(as Python reads them: the run's lines −, today's +)</summary>\n\n{fence}diff\n{drift.diff}\n{fence}\n\n</details>\n\n")
            for cell in nb["cells"]:
                if cell["cell_type"] == "markdown" and (heading := re.search(r"^#\s+.+$", cell["source"], re.MULTILINE)):
                    cell["source"] = cell["source"][:heading.end()] + note + cell["source"][heading.end():].lstrip("\n")
                    break
            else:
                nb["cells"].insert(0, _markdown_cell(note, "docs-code-drift"))
            staged.write_text(json.dumps(nb, indent=1, ensure_ascii=False), encoding="utf-8")


def stage(stage_dir: Path, repo: Path = REPO, library: str = "defective_cnn") -> dict:
    "Write Sphinx's source tree to `stage_dir` (emptied first). Returns what it holds: dict(library, sections, pages)."
    if stage_dir.exists():
        shutil.rmtree(stage_dir)
    (stage_dir / "nbs").mkdir(parents=True)
    write = lambda path, nb: path.write_text(json.dumps(nb, indent=1, ensure_ascii=False), encoding="utf-8")

    library_pages = []
    for path in library_notebooks(repo):
        write(stage_dir / "nbs" / path.name, process_notebook(path, library))
        library_pages.append(f"nbs/{path.stem}")

    section_pages = {}
    for section, runs in section_runs(repo).items():
        folder = stage_dir / "papermill_runs" / section
        folder.mkdir(parents=True)
        for extra in (repo / "papermill_runs" / section).iterdir():  # figures and tables that Markdown pages may link to
            if extra.is_file() and extra.suffix in (".png", ".csv", ".json", ".svg"):
                shutil.copy2(extra, folder / extra.name)
        main, others = runs[0], runs[1:]
        main_nb = process_notebook(main)
        title = _run_title(main_nb, section)
        for run in others:
            nb = process_notebook(run)
            _retitle(nb, f"{title}: run `{run.stem}`")
            write(folder / run.name, nb)
        if others:
            listing = "\n".join(f"{run.stem} <{run.stem}>" for run in others)
            main_nb["cells"].append(_markdown_cell(
                f"## Other committed runs of this section\n\nThe page above is the run `{main.stem}`; "
                f"the section's other runs (`papermill_runs/{section}/`):\n\n```{{toctree}}\n:maxdepth: 1\n\n{listing}\n```\n", "docs-other-runs"))
        write(folder / main.name, main_nb)
        section_pages[section] = f"papermill_runs/{section}/{main.stem}"
    mark_code_drift(stage_dir, repo)  # runs whose code is not today's say so at their top

    md_pages = []
    if markdown_pages(repo):
        (stage_dir / "docs").mkdir()
    for page in markdown_pages(repo):
        shutil.copy2(page, stage_dir / "docs" / page.name)
        md_pages.append(f"docs/{page.stem}")
    for extra in DOCS.iterdir() if DOCS.is_dir() else []:  # images next to the pages
        if extra.is_file() and extra.suffix in (".png", ".svg", ".jpg", ".gif"):
            shutil.copy2(extra, stage_dir / "docs" / extra.name)
    readme = repo / "README.md"
    if readme.exists():
        shutil.copy2(readme, stage_dir / "README.md")

    index = index_text(repo, library)
    toc = lambda caption, entries: f"\n```{{toctree}}\n:caption: {caption}\n:maxdepth: 1\n\n" + "\n".join(entries) + "\n```\n"
    index += toc("Guides", (["README <README>"] if readme.exists() else []) + md_pages)
    index += toc("Sections (committed runs)", section_pages.values())
    index += toc("Library notebooks", library_pages)
    (stage_dir / "index.md").write_text(index, encoding="utf-8")
    return dict(library=library_pages, sections=section_pages, pages=md_pages)


def build(out: Path, work: Path, repo: Path = REPO, quiet: bool = True) -> dict:
    """Stage the sources in `work`/src and run sphinx-build (html, config docs/conf.py) in `work`/build, then move the
    site to `out` (myst-nb writes a jupyter_execute/ folder beside Sphinx's output folder: it stays in `work`).
    Returns stage()'s dict plus timings."""
    started = time.monotonic()
    out, work = Path(out).resolve(), Path(work).resolve()
    staged = stage(work / "src", repo)
    staged_s = time.monotonic() - started
    html = work / "build" / "html"
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-c", str(DOCS), "-d", str(work / "build" / "doctrees"),
               str(work / "src"), str(html)] + (["-q"] if quiet else [])
    subprocess.run(command, check=True, cwd=repo)
    if out.exists():
        shutil.rmtree(out)
    shutil.move(html, out)
    return dict(staged, stage_s=round(staged_s, 1), total_s=round(time.monotonic() - started, 1))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO / "_site"), help="the site's folder (default: _site)")
    parser.add_argument("--work", default=str(REPO / "_site_src"), help="Sphinx's source tree and build folders (default: _site_src)")
    args = parser.parse_args(argv)
    result = build(Path(args.out), Path(args.work))
    print(f"site in {args.out}: {len(result['library'])} library notebooks, {len(result['sections'])} sections, "
          f"{len(result['pages'])} docs pages; staged in {result['stage_s']} s, built in {result['total_s']} s")


if __name__ == "__main__":
    main()
