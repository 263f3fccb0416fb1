# Every target builds the environment it needs; nothing is installed by hand.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.tnlib-installed
BENCH_VENV  := .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.tnlib-installed
# CPU frameworks. torch==2.13.0 is the CPU build (a bare `torch` pulls a multi-GB CUDA build).
CPU_BACKENDS := torch==2.13.0 tensorflow-cpu jax
PEERS := tensorly teneva torchtt tntorch quimb tensorly-torch physics-tenpy pyttb
PYTEST_ARGS ?= -n 2

.PHONY: test demo bench docs lint clean

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q $(CPU_BACKENDS)
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $@

test: $(STAMP)
	TF_CPP_MIN_LOG_LEVEL=3 $(BIN)/python -m pytest $(PYTEST_ARGS)

demo: $(STAMP)
	TF_CPP_MIN_LOG_LEVEL=3 $(BIN)/python -m tnlib demo

lint: $(STAMP)
	$(BIN)/ruff check tnlib tests benchmarks examples

$(BENCH_STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install -q --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install -q $(CPU_BACKENDS) matplotlib scikit-learn "dask[array]" distributed zarr
	$(BENCH_VENV)/bin/python -m pip install -q -e .
	# peer libraries, for side-by-side timings only (never tnlib dependencies)
	-$(BENCH_VENV)/bin/python -m pip install -q $(PEERS)
	-$(BENCH_VENV)/bin/python -m pip install -q --no-deps t3f
	touch $@

# One BLAS thread (PEERS.md). The malloc settings keep freed memory in the process, so
# repeated large temporaries don't page-fault (kernel time that otherwise swings timings
# 2-3x once several frameworks share a process); they apply to every candidate alike.
BENCH_ENV := TF_CPP_MIN_LOG_LEVEL=3 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
	MALLOC_MMAP_THRESHOLD_=4294967296 MALLOC_TRIM_THRESHOLD_=68719476736

bench: $(BENCH_STAMP)
	cd benchmarks && $(BENCH_ENV) ../$(BENCH_VENV)/bin/python run_all.py $(BENCH)

# The site, with warnings as errors; the gallery runs during the build, and the
# docstrings' examples run as doctests first.
DOCS_STAMP := $(VENV)/.tnlib-docs-installed
$(DOCS_STAMP): $(STAMP)
	$(BIN)/python -m pip install -q -e ".[docs]"
	touch $@

docs: $(DOCS_STAMP)
	TF_CPP_MIN_LOG_LEVEL=3 OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -p no:cacheprovider \
		--doctest-modules tnlib
	rm -rf docs/auto_examples docs/_build/html
	TF_CPP_MIN_LOG_LEVEL=3 OMP_NUM_THREADS=1 $(BIN)/python -m sphinx -W --keep-going -q \
		-b html docs docs/_build/html
	@echo "site: docs/_build/html/index.html"

clean:
	rm -rf $(VENV) $(BENCH_VENV) docs/_build docs/auto_examples docs/generated .pytest_cache
