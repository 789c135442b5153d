"""The documentation site (`make docs`, docs/build_site.py) in a real browser: built once into a temporary folder,
served on a free 127.0.0.1 port by http.server in a thread, opened in headless Debian Chromium through Selenium.
Checks that the index loads and every link on it resolves, that a library notebook's page shows its figures and the
API of what it exports, that a section's page shows the figures of its committed run, and that no page asks for
anything outside the local server."""
import functools
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from chromium import needs_chromium, wait_for

REPO = Path(__file__).resolve().parents[1]
LIBRARY_PAGE = "nbs/00_defective.html"
LIBRARY_API = "def sample_mask("  # show_doc's signature of a function that nbs/00_defective.ipynb exports
SECTION = "transfer"

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    "The site built by docs/build_site.py (as `make docs` does) into a temporary folder."
    root = tmp_path_factory.mktemp("docs")
    out, stage = root / "site", root / "stage"
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""), OMP_NUM_THREADS="1")
    started = time.monotonic()
    done = subprocess.run([sys.executable, str(REPO / "docs" / "build_site.py"), "--out", str(out), "--work", str(stage)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"docs/build_site.py failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    print(f"site built in {time.monotonic() - started:.1f} s: {done.stdout.strip()}")
    assert (out / "index.html").exists()
    return out


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        "A browser that drops a connection mid-transfer (it left the page) is not an error of the site."
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@pytest.fixture(scope="module")
def server(site):
    "http.server on a free 127.0.0.1 port serving the site from a thread; its base URL. Stopped after the module."
    httpd = _Server(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(site)))
    httpd.timeout = 5
    thread = threading.Thread(target=httpd.serve_forever, kwargs=dict(poll_interval=0.1), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


def status(url: str) -> int:
    "The HTTP status of a GET of `url` (the local server)."
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


PAGE = """
const main = document.querySelector('article.bd-article') || document.querySelector('[role="main"]') || document.body;
const images = Array.from(main.querySelectorAll('img'));
return {
  title: document.title,
  text: main.innerText,
  links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
  images: images.length,
  images_drawn: images.filter(i => i.complete && i.naturalWidth > 0).length,
  api: Array.from(document.querySelectorAll('.tag_api')).map(e => e.innerText),
  resources: performance.getEntriesByType('resource').map(r => r.name),
};
"""


def open_page(driver, url: str) -> dict:
    "Load `url` and wait until its images have finished loading (drawn or failed); the page's state."
    driver.get(url)
    wait_for(lambda: driver.execute_script("return document.readyState") == "complete", 20, f"{url} to load")
    wait_for(lambda: driver.execute_script("return Array.from(document.images).every(i => i.complete)"), 20, f"the images of {url}")
    return driver.execute_script(PAGE)


def assert_local(page: dict, server: str, url: str):
    "Everything the page fetched came from the local server (the site works offline)."
    outside = [r for r in page["resources"] if not r.startswith(server)]
    assert not outside, f"{url} fetched from outside the local server: {outside[:5]}"


def test_index_loads_and_every_link_resolves(server, browser):
    url = f"{server}/index.html"
    page = open_page(browser, url)
    assert "defective_cnn" in page["title"]
    assert_local(page, server, url)
    local = sorted({urllib.parse.urldefrag(link)[0] for link in page["links"] if link.startswith(server)})
    outside = [link for link in page["links"] if not link.startswith(server)]
    assert not outside, f"the index links outside the site: {outside}"
    expected = ([f"{server}/{p.with_suffix('.html').as_posix()}" for p in (Path("nbs") / n.name for n in sorted((REPO / "nbs").glob("[0-9]*.ipynb")))]
                + [f"{server}/papermill_runs/{d.name}/cpu.html" for d in sorted((REPO / "papermill_runs").iterdir()) if (d / "cpu.ipynb").exists()]
                + [f"{server}/docs/{p.stem}.html" for p in sorted((REPO / "docs").glob("*.md")) if p.name != "index.md"])
    missing = [e for e in expected if e not in local]
    assert not missing, f"the index does not link {missing}"
    broken = {link: code for link in local if (code := status(link)) != 200}
    assert not broken, f"links of the index that do not resolve: {broken}"


def test_library_page_shows_figures_and_api(server, browser):
    url = f"{server}/{LIBRARY_PAGE}"
    page = open_page(browser, url)
    assert_local(page, server, url)
    notebook = json.loads((REPO / "nbs" / "00_defective.ipynb").read_text())
    figures = sum("image/png" in o.get("data", {}) for c in notebook["cells"] for o in c.get("outputs", []))
    assert figures >= 1, "nbs/00_defective.ipynb has committed figures"
    assert page["images"] >= figures and page["images_drawn"] == page["images"], \
        f"{page['images_drawn']} of {page['images']} images drawn; the notebook has {figures} figures"
    assert any(LIBRARY_API in entry for entry in page["api"]), f"no API entry with {LIBRARY_API!r} among {len(page['api'])} entries"
    math = browser.execute_script("return document.querySelectorAll('span.math').length")
    assert math > 0, "nbs/00_defective.ipynb writes math ($M$, $p$)"
    wait_for(lambda: browser.execute_script("return document.querySelectorAll('span.math .MathJax').length") == math, 90,
             f"MathJax (served by the site) to typeset the page's {math} formulas")
    assert all(entry.strip() for entry in page["api"])
    quarto_marks = re.findall(r"^(?:#\|.*|:::.*)$", page["text"], re.MULTILINE) + re.findall(r"\{target=", page["text"])
    assert not quarto_marks, f"Quarto marks left on the page: {quarto_marks[:5]}"


def test_section_page_shows_its_figures_and_other_runs(server, browser):
    url = f"{server}/papermill_runs/{SECTION}/cpu.html"
    page = open_page(browser, url)
    assert_local(page, server, url)
    committed = json.loads((REPO / "papermill_runs" / SECTION / "cpu.ipynb").read_text())
    figures = sum("image/png" in o.get("data", {}) for c in committed["cells"] for o in c.get("outputs", []))
    assert figures >= 2, "the committed transfer run has its Table 2 and Table 3 figures"
    assert page["images"] == figures and page["images_drawn"] == figures, f"{page['images_drawn']} of {page['images']} images drawn, {figures} committed"
    others = sorted(p.stem for p in (REPO / "papermill_runs" / SECTION).glob("*.ipynb") if p.stem != "cpu" and not p.name.startswith("."))
    linked = {urllib.parse.urldefrag(link)[0] for link in page["links"]}
    for run in others:
        run_url = f"{server}/papermill_runs/{SECTION}/{run}.html"
        assert run_url in linked, f"the section's page does not list the run {run}"
        assert status(run_url) == 200


def test_index_opens_on_the_claims_table_and_its_figure(server, browser):
    "The site's first page opens on what the README opens on: the claims table, its rule and figure, before the lists of pages."
    url = f"{server}/index.html"
    page = open_page(browser, url)
    text = page["text"]
    assert "What the paper claims, and what our runs say" in text and "verdict (cpu)" in text, "the index has no claims table"
    assert text.index("verdict (cpu)") < text.index("Library notebooks"), "the claims table comes after the lists of pages"
    assert "Verdicts, in this order" in text  # the rule under the table
    figure = browser.execute_script("return Array.from(document.images).filter(i => i.src.endsWith('cpu_figure5.png') && i.naturalWidth > 0).length")
    assert figure == 1, "the README's Figure 5 is not drawn on the index"
    assert "sphinx-book-theme" in browser.page_source or "sphinx_book_theme" in browser.page_source, "not the notebook theme"
