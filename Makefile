# teespark top-level Makefile.
#
#   make demo     set up a fresh machine, build, and run the demo job
#   make test     set up a fresh machine, build, and run every test suite
#   make bench    run all benchmarks (make bench-kernels runs one)
#
# `make setup` is idempotent: it installs missing system packages (apt, when
# run as root) and the Python dependencies, then builds the native parts.

PYTHON ?= python3
JOBS ?= 2
export PYTHONPATH := $(CURDIR)/python$(if $(PYTHONPATH),:$(PYTHONPATH))

NATIVE_DIR := python/teespark/_native

.PHONY: setup deps system-deps native demo test test-c test-py bench bench-kernels bench-crypto bench-operators clean

setup: deps native

system-deps:
	@bash scripts/install_system_deps.sh

deps: system-deps
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt

native:
	$(MAKE) -C enclave all -j$(JOBS)
	rm -rf $(NATIVE_DIR) && mkdir -p $(NATIVE_DIR)
	cp -a enclave/build/lib/. $(NATIVE_DIR)/

demo: setup
	$(PYTHON) -m teespark.demo

test: setup test-c test-py

test-c:
	$(MAKE) -C enclave test -j$(JOBS)

test-py:
	$(PYTHON) -m pytest -q tests

bench: bench-kernels bench-crypto bench-operators

bench-kernels: setup
	$(MAKE) -C enclave bench-kernels-c -j$(JOBS)
	$(PYTHON) bench/run_kernels.py

# Owner-side crypto: openssl speed, block sealing, write_table/read_table (< 2 min).
bench-crypto: deps
	$(PYTHON) bench/run_crypto.py

# RUN_OPERATOR in both modes vs DuckDB (1 thread) at 10^5 and 10^6 rows (~5 min).
bench-operators: setup
	$(PYTHON) bench/run_operators.py

clean:
	$(MAKE) -C enclave clean
	rm -rf $(NATIVE_DIR)
