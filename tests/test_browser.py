"""JupyterLab in a real browser: a library notebook runs there without errors and shows its figures,
and a committed run opens with its figures. Headless Debian Chromium, driven through Selenium, on a
JupyterLab started for the test on a free 127.0.0.1 port with a token, serving copies of the notebooks."""
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from chromium import needs_chromium, wait_for

REPO = Path(__file__).resolve().parents[1]
LIBRARY_NOTEBOOK = "00_defective.ipynb"
MASK_FIGURE_CODE = "ax.imshow(mask[c]"  # the cell that draws the masks of the three modes
COMMITTED_RUN = Path("papermill_runs") / "transfer" / "cpu.ipynb"

pytestmark = needs_chromium


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    "A JupyterLab server on 127.0.0.1 whose root holds copies of the notebooks: dict(url, token, root, log)."
    root = tmp_path_factory.mktemp("lab_root")
    shutil.copy2(REPO / "nbs" / LIBRARY_NOTEBOOK, root / LIBRARY_NOTEBOOK)
    (root / COMMITTED_RUN).parent.mkdir(parents=True)
    shutil.copy2(REPO / COMMITTED_RUN, root / COMMITTED_RUN)
    home = tmp_path_factory.mktemp("lab_home")  # Jupyter's config, runtime, settings and workspaces: nothing of the user's
    settings = home / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))  # every cell in the page
    notifications = home / "settings" / "@jupyterlab" / "apputils-extension"
    notifications.mkdir(parents=True)
    (notifications / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))  # no news toast
    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_RUNTIME_DIR=str(home / "runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(home / "settings"), JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"))
    log_path = home / "server.log"
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
               "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
               "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if os.geteuid() == 0:
        command.append("--allow-root")
    url = f"http://127.0.0.1:{port}"
    with open(log_path, "w") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root)
        try:
            def ready():
                assert server.poll() is None, f"JupyterLab exited with status {server.returncode}:\n{log_path.read_text()[-3000:]}"
                try:
                    with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2) as response:
                        return response.status == 200
                except OSError:
                    return False
            wait_for(ready, 90, f"JupyterLab at {url} (log: {log_path})")
            yield dict(url=url, token=token, root=root, log=log_path)
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=10)


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory):
    return tmp_path_factory.mktemp("screenshots")


@contextmanager
def explained(driver, folder: Path, name: str, lab: dict):
    "On failure: a screenshot and the page's state, their paths printed (pytest shows them with the failure)."
    try:
        yield
    except BaseException:
        shot = folder / f"{name}-failed.png"
        driver.save_screenshot(str(shot))
        print(f"screenshot of the failure: {shot}\nJupyterLab's log: {lab['log']}")
        raise
    finally:
        driver.save_screenshot(str(folder / f"{name}.png"))
        print(f"screenshot: {folder / f'{name}.png'}")


def open_notebook(driver, lab, path: str):
    from selenium.webdriver.common.by import By

    driver.get(f"{lab['url']}/lab/tree/{path}?reset&token={lab['token']}")  # reset: no tabs restored from before
    wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, ".jp-NotebookPanel .jp-Notebook .jp-Cell") and
             state(driver)["document"] == Path(path).name, 90, f"{path} to open")
    dismiss_dialogs(driver)


def dismiss_dialogs(driver):
    "Accept what JupyterLab asks on opening (a kernel to choose, a notification): the default button."
    from selenium.webdriver.common.by import By

    for button in driver.find_elements(By.CSS_SELECTOR, ".jp-Dialog .jp-mod-accept"):
        button.click()


def menu(driver, title: str, command: str):
    "Click the menu bar's `title`, then its item for JupyterLab command `command`."
    from selenium.webdriver.common.by import By

    bar = [e for e in driver.find_elements(By.CSS_SELECTOR, ".lm-MenuBar-item") if e.text.strip() == title]
    assert bar, f"no menu {title!r} in the menu bar"
    bar[0].click()
    item = wait_for(lambda: [e for e in driver.find_elements(By.CSS_SELECTOR, f'.lm-Menu-item[data-command="{command}"]') if e.is_displayed()],
                    10, f"the item {command} of the {title} menu")
    item[0].click()


def save(driver):
    "Click the notebook toolbar's save button."
    from selenium.webdriver.common.by import By

    button = driver.find_elements(By.CSS_SELECTOR, '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Toolbar [data-command="docmanager:save"]')
    assert button, "no save button in the notebook's toolbar"
    button[0].click()


STATE = """
const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
const tab = document.querySelector('.lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current .lm-TabBar-tabLabel');
if (!panel) return {document: null, code_cells: 0, running: 0, executed: 0, images: 0, images_drawn: 0, tracebacks: [], mask_figure: []};
const cells = Array.from(panel.querySelectorAll('.jp-CodeCell'));
const prompts = cells.map(c => (c.querySelector('.jp-InputPrompt') || {}).textContent || '');
const images = Array.from(panel.querySelectorAll('.jp-OutputArea-output img'));
const indicator = panel.querySelector('.jp-Notebook-ExecutionIndicator');
return {
  document: tab ? tab.textContent : null,
  kernel: indicator ? indicator.getAttribute('data-status') : null,
  code_cells: cells.length,
  running: prompts.filter(p => p.includes('*')).length,
  executed: prompts.filter(p => /\\[\\d+\\]/.test(p)).length,
  images: images.length,
  images_drawn: images.filter(i => i.complete && i.naturalWidth > 0).length,
  tracebacks: Array.from(panel.querySelectorAll('.jp-OutputArea-output')).filter(o => o.textContent.includes('Traceback (most recent call last)'))
                   .map(o => o.textContent.trim().split('\\n').slice(-1)[0]),
  mask_figure: cells.filter(c => ((c.querySelector('.jp-InputArea') || {}).textContent || '').includes(arguments[0]))
                    .map(c => Array.from(c.querySelectorAll('.jp-OutputArea-output img')).filter(i => i.naturalWidth > 0).length),
};
"""


def state(driver) -> dict:
    return driver.execute_script(STATE, MASK_FIGURE_CODE)


def show_image(driver, index: int = -1):
    "Scroll the page to an output image (for the screenshot)."
    driver.execute_script("const i = document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output img');"
                          "if (i.length) i[arguments[0] < 0 ? i.length + arguments[0] : arguments[0]].scrollIntoView();", index)


def test_library_notebook_runs_in_the_browser(lab, browser, screenshots):
    notebook = lab["root"] / LIBRARY_NOTEBOOK
    with explained(browser, screenshots, "run-all", lab):
        open_notebook(browser, lab, LIBRARY_NOTEBOOK)
        wait_for(lambda: state(browser)["kernel"] == "idle", 90, "the kernel to be ready")
        code_cells = sum(c["cell_type"] == "code" for c in json.loads(notebook.read_text())["cells"])
        wait_for(lambda: state(browser)["code_cells"] == code_cells, 30, f"all {code_cells} code cells in the page")
        menu(browser, "Run", "runmenu:run-all")  # Run All Cells
        wait_for(lambda: state(browser)["running"] > 0 or state(browser)["executed"] > 0, 30, "Run All Cells to start")
        assert state(browser)["document"] == LIBRARY_NOTEBOOK
        finished = wait_for(lambda: (lambda s: s if s["running"] == 0 and s["executed"] > 0 and s["kernel"] == "idle" else None)(state(browser)),
                            150, "the notebook to finish running")
        assert not finished["tracebacks"], f"cells show tracebacks ending in: {finished['tracebacks']}"
        assert finished["executed"] == code_cells, f"only {finished['executed']} of {code_cells} code cells ran"
        assert finished["mask_figure"] == [1], f"the mask figure's cell shows {finished['mask_figure']} drawn image(s), not one"
        show_image(browser, -1)
        save(browser)
        saved = wait_for(lambda: (lambda nb: nb if all(c.get("execution_count") for c in nb["cells"] if c["cell_type"] == "code") else None)(
            json.loads(notebook.read_text())), 30, "the executed notebook to be saved")
        outputs = [o for c in saved["cells"] if c["cell_type"] == "code" for o in c["outputs"]]
        errors = [f"{o['ename']}: {o['evalue']}" for o in outputs if o["output_type"] == "error"]
        assert not errors, f"error outputs: {errors}"
        assert sum("image/png" in o.get("data", {}) for o in outputs) >= 2  # the keep-rate plot and the mask figure
    assert (REPO / "nbs" / LIBRARY_NOTEBOOK).read_text() != notebook.read_text(), "the repository's notebook is untouched, the copy ran"


def test_committed_run_shows_its_figures(lab, browser, screenshots):
    committed = json.loads((lab["root"] / COMMITTED_RUN).read_text())
    figures = sum("image/png" in o.get("data", {}) for c in committed["cells"] for o in c.get("outputs", []))
    assert figures >= 2, "the committed run has its Table 2 and Table 3 figures"
    with explained(browser, screenshots, "committed-run", lab):
        open_notebook(browser, lab, COMMITTED_RUN.as_posix())
        shown = wait_for(lambda: (lambda s: s if s["images_drawn"] >= figures else None)(state(browser)), 60, f"{figures} figures to be drawn")
        show_image(browser, 0)
        assert shown["document"] == COMMITTED_RUN.name and shown["images"] == figures and not shown["tracebacks"]
