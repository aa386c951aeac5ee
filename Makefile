# The two commands a newcomer needs: `make demo` and `make test`. Both create the virtual
# environment in .venv and install what they need into it; nothing is installed globally.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DEMO   ?= examples/dvs-resnet
# A path-based editable install: no import hook to load at every start of the command.
EDITABLE := --config-settings editable_mode=compat

.PHONY: demo test lint schema docs bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e . $(EDITABLE)
	@$(BIN)/python -m compileall -q dynapcnn_dsl   # as pip does for an installed package
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]' $(EDITABLE)
	$(BIN)/python -m pip install --quiet --no-deps sinabs==3.1.3   # test-only parity reference; never samna
	$(BIN)/python -m pip install --quiet --no-deps norse==1.1.0    # not its torchvision (unused by its modules)
	@# the editors' YAML language server, for tests/acceptance/test_editor_lsp.py (skipped without npm)
	@if command -v npm >/dev/null 2>&1; then \
	  npm install --silent --no-audit --no-fund --prefix $(VENV)/node yaml-language-server@2 \
	  || echo "warning: yaml-language-server not installed; the LSP test will be skipped"; \
	else echo "npm not found: the LSP test (yaml-language-server) will be skipped"; fi
	@$(BIN)/python -m compileall -q dynapcnn_dsl
	@touch $@ $(VENV)/.installed-run

## demo: build the DVS ResNet example (all nine cores), show its report and a mistake, then simulate it: the chip names the class of the demo's events
demo: $(VENV)/.installed-run
	@echo "== dynapcnn-dsl build $(DEMO)/network.yaml $(DEMO)/weights.safetensors -o $(DEMO)/config.samna.json --annotate"
	@$(BIN)/dynapcnn-dsl build $(DEMO)/network.yaml $(DEMO)/weights.safetensors -o $(DEMO)/config.samna.json --annotate
	@echo
	@echo "== a file with mistakes: dynapcnn-dsl validate examples/mistakes.yaml (exit status 1)"
	@$(BIN)/dynapcnn-dsl validate examples/mistakes.yaml || true
	@echo
	@echo "== simulate it on synthetic events (a vertical bar sweeping the sensor): dynapcnn-dsl simulate $(DEMO)/config.samna.json --events $(DEMO)/events.npy --slow-clock-hz 1000 --record all -o $(DEMO)/simulation.npz"
	@$(BIN)/python $(DEMO)/make_events.py
	@$(BIN)/dynapcnn-dsl simulate $(DEMO)/config.samna.json --events $(DEMO)/events.npy --slow-clock-hz 1000 --record all -o $(DEMO)/simulation.npz
	@echo
	@$(BIN)/python $(DEMO)/name_class.py $(DEMO)/simulation.npz

## test: lint and run the whole test suite
test: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

## schema: regenerate schema/network.schema.json from the models (and the template and document schemas)
schema: $(VENV)/.installed-run
	$(BIN)/dynapcnn-dsl schema -o schema/network.schema.json
	$(BIN)/dynapcnn-dsl schema --template -o schema/template.schema.json
	$(BIN)/dynapcnn-dsl schema --document -o schema/document.schema.json

## docs: regenerate docs/reference.md from the schema and the code catalogue (rules and other codes)
docs: $(VENV)/.installed-run
	$(BIN)/python -m dynapcnn_dsl.report.reference > docs/reference.md

## bench: run the benchmarks (they print ratios against a baseline measured in the same run)
bench: $(VENV)/.installed-run $(VENV)/.installed-test   # simulate.py compares with sinabs
	$(BIN)/python benchmarks/validate_startup.py
	$(BIN)/python benchmarks/link.py
	$(BIN)/python benchmarks/weights.py
	$(BIN)/python benchmarks/build.py
	$(BIN)/python benchmarks/expand.py
	$(BIN)/python benchmarks/refusals.py
	$(BIN)/python benchmarks/diff.py
	$(BIN)/python benchmarks/simulate.py
	$(BIN)/python benchmarks/lsp.py
	$(BIN)/python benchmarks/compare.py
	$(BIN)/python benchmarks/evaluate.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
