# swiftvr: two commands set everything up: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@command -v ffmpeg >/dev/null 2>&1 || { \
	  echo "installing the ffmpeg binary (only tests of external pipes use it)"; \
	  (apt-get update -qq && apt-get install -y -qq ffmpeg >/dev/null) || \
	  (sudo apt-get update -qq && sudo apt-get install -y -qq ffmpeg >/dev/null) || \
	  echo "warning: could not install ffmpeg; pipe tests will be skipped"; }
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# torch first and pinned: an unpinned torch would pull a multi-GB CUDA build
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[test,plot,ray]'
	@touch $(STAMP)

demo: install
	$(BIN)/python -m swiftvr_cli.demo

test: install
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache demo_output
