# The README's two commands: `make demo` (the main job on phantom data) and `make test`.
# Each creates .venv on first use and installs the core and every plugin distribution under
# plugins/ in one pip call (editable), so built-in plugins are visible through their entry points.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PLUGIN_DIRS := $(patsubst %/pyproject.toml,%,$(wildcard plugins/*/pyproject.toml))
STAMP := $(VENV)/.medgan-zoo-installed

.PHONY: demo test install clean

install: $(STAMP)

$(STAMP): pyproject.toml $(addsuffix /pyproject.toml,$(PLUGIN_DIRS))
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e ".[test]" $(addprefix -e ./,$(PLUGIN_DIRS))
	touch $@

demo: $(STAMP)
	$(BIN)/medgan-zoo demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV)
