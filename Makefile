# `make demo` and `make test` each create .venv and install the project on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.bench-installed

LOWEST := .venv-lowest
CHECK := .package-check

.PHONY: demo test test-lowest check-package lint install bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[all,dev]'
	touch $(STAMP)

install: $(STAMP)

# The peer libraries the benchmark compares against (the `bench` extra).
$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[all,dev,bench]'
	touch $(BENCH_STAMP)

demo: $(STAMP)
	$(BIN)/python -m integrations.demo

test: $(STAMP)
	$(BIN)/python -m pytest -q
	$(BIN)/ruff check bedrock_cache langchain_bedrock_cache llama_index_bedrock_cache tests integrations benchmarks
	$(BIN)/ruff format --check bedrock_cache langchain_bedrock_cache llama_index_bedrock_cache tests integrations benchmarks
	$(BIN)/mypy

# The suite against the lowest versions pyproject.toml allows (uv's lowest-direct resolution),
# in three lines: boto3 1.37.28 and langchain-core 0.3, without [agents] (langchain 1.x needs
# core 1.x) and [llama-index] (its floor needs boto3 1.38.27); then every extra, with
# langchain 1.x (boto3 1.40.19, which langchain-aws 1.0 needs; llama-index-llms-bedrock-converse
# resolves to 0.14.16 there, async on the boto3 client); then langchain-core 0.3 with
# llama-index-llms-bedrock-converse at its floor, async on aioboto3.
test-lowest: $(STAMP)
	rm -rf $(LOWEST) && $(BIN)/uv venv -q --python $(BIN)/python $(LOWEST)
	$(BIN)/uv pip install -q --python $(LOWEST)/bin/python --resolution lowest-direct \
		-e '.[langchain,otel,redis,dev]'
	$(BIN)/uv pip list -q --python $(LOWEST)/bin/python | grep -iE '^(boto|langchain|langgraph |llama-index-(core|llms))'
	$(LOWEST)/bin/python -m pytest -q -p no:cacheprovider
	rm -rf $(LOWEST) && $(BIN)/uv venv -q --python $(BIN)/python $(LOWEST)
	$(BIN)/uv pip install -q --python $(LOWEST)/bin/python --resolution lowest-direct -e '.[all,dev]'
	$(BIN)/uv pip list -q --python $(LOWEST)/bin/python | grep -iE '^(boto|langchain|langgraph |llama-index-(core|llms))'
	$(LOWEST)/bin/python -m pytest -q -p no:cacheprovider
	rm -rf $(LOWEST) && $(BIN)/uv venv -q --python $(BIN)/python $(LOWEST)
	$(BIN)/uv pip install -q --python $(LOWEST)/bin/python --resolution lowest-direct \
		-e '.[langchain,llama-index,otel,redis,dev]'
	$(BIN)/uv pip list -q --python $(LOWEST)/bin/python | grep -iE '^(aio)?boto|^llama-index-(core|llms)'
	$(LOWEST)/bin/python -m pytest -q -p no:cacheprovider
	rm -rf $(LOWEST)

# A warning-free build; the wheel installs into a clean venv, its CLI runs and __version__ is
# the distribution's version.
check-package: $(STAMP)
	rm -rf $(CHECK) build && mkdir -p $(CHECK)
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/python -m build --outdir $(CHECK)/dist . > $(CHECK)/build.log 2>&1 \
		|| (cat $(CHECK)/build.log; exit 1)
	! grep -i 'warning' $(CHECK)/build.log
	$(BIN)/uv venv -q --python $(BIN)/python $(CHECK)/venv
	$(BIN)/uv pip install -q --python $(CHECK)/venv/bin/python $(CHECK)/dist/*.whl
	cd $(CHECK) && venv/bin/bedrock-cache models > /dev/null && venv/bin/python -c \
		"import importlib.metadata as m, bedrock_cache as b; assert b.__version__ == m.version('bedrock-prompt-cache'), b.__version__"
	rm -rf $(CHECK) build

bench: $(BENCH_STAMP)
	$(BIN)/python -m benchmarks
	$(BIN)/python -m benchmarks.fleet
	$(BIN)/python -m benchmarks.random_traffic

clean:
	rm -rf $(VENV) $(LOWEST) $(CHECK) .pytest_cache .mypy_cache .ruff_cache
