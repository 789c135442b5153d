# The commands of the README: `make run` (the main job), `make test` (every test), `make lab`
# (JupyterLab on the notebooks) and `make docs` (the documentation site in _site/). They install what they need into .venv first, and do nothing more
# when it is already there.
SHELL := /bin/bash
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# The torch build that lies on this machine's disk (DEVELOPERS.md); any torch>=2.2 works for the code.
TORCH_PINS ?= torch==2.14.1 torchvision==0.29.1
FASHION_DIR := /usr/share/datasets/fashion-mnist
LAB_PORT ?= 8888
# the browser tests/test_browser.py drives (Debian's packages; the test skips where neither is installed)
CHROMIUM := $(firstword $(wildcard /usr/bin/chromium /usr/bin/chromium-browser))
CHROMEDRIVER := $(wildcard /usr/bin/chromedriver)
SUDO := $(shell [ "$$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1 && echo sudo)

.PHONY: install data browser kernel lab run test outputs docs

install: $(STAMP)

$(STAMP): setup.py settings.ini
	@[ -x $(BIN)/python ] || python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q $(TORCH_PINS)
	$(BIN)/python -m pip install -q -e ".[dev]"
	@touch $@

# Fashion-MNIST, the offline default data, from Debian's package where apt is available.
data:
	@if [ ! -d $(FASHION_DIR) ] && command -v apt-get >/dev/null 2>&1; then \
	  $(SUDO) apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1 || \
	  { $(SUDO) apt-get update -q >/dev/null && $(SUDO) apt-get install -y -q dataset-fashion-mnist; } ; \
	fi; [ -d $(FASHION_DIR) ] || echo "note: $(FASHION_DIR) is missing; notebooks that need Fashion-MNIST will say how to get it"

# Headless Chromium and its driver for the browser test, from Debian's packages where apt is available.
browser:
	@if { [ -z "$(CHROMIUM)" ] || [ -z "$(CHROMEDRIVER)" ]; } && command -v apt-get >/dev/null 2>&1; then \
	  $(SUDO) apt-get install -y -q chromium chromium-driver >/dev/null 2>&1 || \
	  { $(SUDO) apt-get update -q >/dev/null && $(SUDO) apt-get install -y -q chromium chromium-driver; } ; \
	fi; command -v chromedriver >/dev/null 2>&1 || echo "note: no chromium/chromedriver; tests/test_browser.py will be skipped"

# The project's .venv as a Jupyter kernel, "defective_cnn (.venv)", registered inside .venv itself.
kernel: install
	$(BIN)/python -m ipykernel install --sys-prefix --name defective-cnn --display-name "defective_cnn (.venv)" >/dev/null

# JupyterLab on this machine only (127.0.0.1), opening on nbs/ (papermill_runs/ is one folder up);
# open the URL with the token that it prints. New notebooks get the defective_cnn (.venv) kernel.
lab: install data kernel
	$(BIN)/jupyter lab --ServerApp.root_dir=. --LabApp.default_url=/lab/tree/nbs --ServerApp.ip=127.0.0.1 \
	  --ServerApp.port=$(LAB_PORT) --no-browser --MappingKernelManager.default_kernel_name=defective-cnn \
	  $(if $(filter 0,$(shell id -u)),--allow-root)

# The main job: the transfer-attack section (Tables 2 and 3) at the cpu profile, on Fashion-MNIST.
run: install data
	$(BIN)/defective-cnn run transfer --run cpu

# One zoo of smoke networks for every notebook and test of a `make test`, emptied first: each is trained once per run,
# never into the user's zoo (zoo.smoke_zoo_dir).
SMOKE_ZOO := $(CURDIR)/.make/smoke-zoo

test: install data browser
	bash .ci/check-nbdev-sync $(BIN)
	rm -rf $(SMOKE_ZOO) && mkdir -p $(SMOKE_ZOO)
	# two notebooks at a time, one thread each: two torch processes with two threads each on two cores run far slower
	OMP_NUM_THREADS=1 DEFECTIVE_CNN_SMOKE_ZOO=$(SMOKE_ZOO) $(BIN)/nbdev_test --n_workers 2
	# two pytest workers, each taking whole files: most tests wait on kernels, servers and subprocesses
	OMP_NUM_THREADS=1 DEFECTIVE_CNN_SMOKE_ZOO=$(SMOKE_ZOO) $(BIN)/python -m pytest -q -n 2 --dist loadfile --durations=12 tests

# Re-execute the library notebooks in place so that their committed outputs (tables, figures) are current.
outputs: install data
	OMP_NUM_THREADS=1 $(BIN)/python .ci/execute-notebooks --workers 2
	$(BIN)/nbdev_clean

# The documentation site in _site/ (open _site/index.html, or `python -m http.server -d _site`): every library notebook
# with its committed outputs and the API of what it exports (nbdev's show_doc), every section's committed runs, the
# README and docs/*.md. nbdev_docs needs Quarto, which does not install from PyPI: docs/build_site.py applies nbdev's
# notebook processors, maps the Quarto-only marks, and renders with Sphinx + myst-nb, execution off (docs/conf.py).
# Sphinx + myst-nb was chosen over mkdocs-jupyter (both tried on the same staged notebooks, one thread, a shared 2-core
# machine): Sphinx rendered the site in 11.5 s of CPU (23 MB), mkdocs-jupyter with mkdocs-material in 27.7 s of CPU
# (71 MB: figures inlined as base64); Sphinx also honours the remove-input tags the Quarto marks map to, renders
# show_doc's Markdown, and gives a navigation tree and search. The whole `make docs` measured 22-58 s wall (14-21 s of
# CPU, a third of it processing the notebooks), the wall time depending on the machine's other load.
docs: install
	OMP_NUM_THREADS=1 $(BIN)/python docs/build_site.py --out _site --work _site_src
