# `make demo` and `make test` each create .venv and install the project on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.bench-installed

.PHONY: demo test lint install bench clean

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

bench: $(BENCH_STAMP)
	$(BIN)/python -m benchmarks
	$(BIN)/python -m benchmarks.fleet

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
