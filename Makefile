# ar: build, test, install. Entry points: make, make test, make bench,
# make install PREFIX=..., make deps (Debian packages, and the MCP SDK client
# of the tests through npm).
#
# Files are discovered, not listed: lib/*/*.c (one folder per subsystem, see
# README "Where things are") makes lib/libar.a, trainer/*.c and
# kernels/cpu/*.c make lib/libtrain.a, every bin/ar-*.c is a tool, every
# tests/unit/test_*.c is a Check suite and every tests/cli/*.sh a CLI test.
# Header dependencies are per file (-MMD: each object lists what it includes).

PREFIX   ?= /usr/local
ifeq ($(origin CC),default)
CC       := gcc
endif
PKGS     := libgit2 yaml-0.1 cairo openblas sqlite3
DEBPKGS  := libjq-dev libonig-dev libgit2-dev libyaml-dev check libopenblas-dev libsqlite3-dev \
            libcairo2-dev pkg-config
NLP_CORPUS_VERSION := 4.4.0
export NLP_CORPUS_VERSION

OPT      ?= -O2
CFLAGS   ?= $(OPT) -g
CFLAGS   += -std=gnu11 -Wall -Wextra -Werror -fopenmp -pthread -MMD -MP \
            -Ilib -Itrainer -Ikernels \
            -DNLP_CORPUS_VERSION='"$(NLP_CORPUS_VERSION)"' \
            $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDFLAGS  += -fopenmp -pthread -Wl,--as-needed
LDLIBS   += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -ljq -lonig -lm
CHECKLIBS = $(shell pkg-config --libs check 2>/dev/null)

LIB_SRC   := $(wildcard lib/*/*.c)
LIB_OBJ   := $(LIB_SRC:.c=.o)
TRAIN_SRC := $(wildcard trainer/*.c) $(wildcard kernels/*.c) $(wildcard kernels/cpu/*.c)
TRAIN_OBJ := $(TRAIN_SRC:.c=.o)

# CUDA kernels (kernels/cuda/*.cu) go into lib/libtrain.a when CUDA=1: the
# default when nvcc is found (PATH, else /usr/local/cuda); `make cuda` asks
# for them and fails without nvcc; CUDA=0 builds the CPU-only tools.
# Compiled for sm_80 (A100) and sm_90 (H100/H200) with PTX for newer GPUs
# (CUDA_ARCH overrides), warnings as errors.
NVCC      ?= $(or $(shell command -v nvcc 2>/dev/null),$(wildcard /usr/local/cuda/bin/nvcc))
CUDA      ?= $(if $(NVCC),1,0)
CUDA_HOME ?= $(patsubst %/bin/nvcc,%,$(NVCC))
CUDA_ARCH ?= -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=[sm_90,compute_90]
NVCCFLAGS ?= -O3
NVCCFLAGS += -std=c++17 $(CUDA_ARCH) -Werror all-warnings -Xcompiler -Wall,-Wextra,-Werror \
             -Ikernels -Ikernels/cuda -Ilib -MMD -MP
CUDA_SRC  := $(wildcard kernels/cuda/*.cu)
CUDA_OBJ  := $(CUDA_SRC:.cu=.o)
GPU_SRC   := $(wildcard tests/gpu/test_*.c)
GPU_TESTS := $(if $(filter 1,$(CUDA)),$(GPU_SRC:.c=))
ifeq ($(CUDA),1)
TRAIN_OBJ += $(CUDA_OBJ)
LDLIBS    += -L$(CUDA_HOME)/lib64 -Wl,-rpath,$(CUDA_HOME)/lib64 -lcublas -lcudart -lstdc++
endif
TOOLS     := $(patsubst %.c,%,$(wildcard bin/ar-*.c))
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNITS     := $(UNIT_SRC:.c=)
MANS      := $(wildcard man/*.[157])
DEPS      := $(LIB_OBJ:.o=.d) $(TRAIN_OBJ:.o=.d) $(TOOLS:=.d) $(UNITS:=.d) $(GPU_TESTS:=.d)

all: $(TOOLS)

lib/libar.a: $(LIB_OBJ)
	rm -f $@ && $(AR) rcs $@ $^

lib/libtrain.a: $(TRAIN_OBJ)
	rm -f $@ && $(AR) rcs $@ $^

%.o: %.c
	$(CC) $(CFLAGS) -c -o $@ $<

# the dispatch layer knows whether the CUDA kernels are in; it is rebuilt
# when CUDA changes (kernels/cuda.flag holds the value last built with)
kernels/cuda.flag: FORCE
	@echo '$(CUDA)' | cmp -s - $@ || echo '$(CUDA)' >$@
kernels/dispatch.o: kernels/cuda.flag
kernels/dispatch.o: CFLAGS += $(if $(filter 1,$(CUDA)),-DAR_CUDA)

kernels/cuda/%.o: kernels/cuda/%.cu
	$(NVCC) $(NVCCFLAGS) -c -o $@ $<

cuda:
	@[ -n "$(NVCC)" ] || { echo "make cuda: nvcc not found (PATH, /usr/local/cuda/bin)" >&2; exit 2; }
	@$(MAKE) --no-print-directory CUDA=1 all $(GPU_SRC:.c=)

# the CUDA kernels' logic on the CPU, under an emulation of CUDA threads
# (slow: minutes; not part of make test; see tests/gpu/emu/run.sh)
gpu-emu:
	@tests/gpu/emu/run.sh

tests/gpu/test_%: tests/gpu/test_%.c lib/libtrain.a lib/libar.a
	$(CC) $(CFLAGS) -Itests/unit -o $@ $< lib/libtrain.a lib/libar.a \
	    $(LDFLAGS) $(CHECKLIBS) $(LDLIBS)

bin/ar-%: bin/ar-%.c lib/libtrain.a lib/libar.a
	$(CC) $(CFLAGS) -o $@ $< lib/libtrain.a lib/libar.a $(LDFLAGS) $(LDLIBS)

tests/unit/test_%: tests/unit/test_%.c lib/libtrain.a lib/libar.a
	$(CC) $(CFLAGS) -Itests/unit -o $@ $< lib/libtrain.a lib/libar.a \
	    $(LDFLAGS) $(CHECKLIBS) $(LDLIBS)

test: all $(UNITS) $(GPU_TESTS)
	@tests/check-layers.sh
	@tests/run.sh $(UNITS) $(GPU_TESTS)

# lib/ layers: includes and links point one way, no cycles (tests/check-layers.sh)
check-layers: lib/libar.a
	@tests/check-layers.sh

bench: all
	@for b in bench/*.sh; do echo "== $$b"; $$b || exit 1; done

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man7
	install -m 755 $(TOOLS) $(DESTDIR)$(PREFIX)/bin/
	for m in $(MANS); do \
	    s=$${m##*.}; install -m 644 $$m $(DESTDIR)$(PREFIX)/share/man/man$$s/; \
	done

# Installs only what is missing; a no-op when everything is there.
deps:
	@missing=""; for p in $(DEBPKGS); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' \
	        || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	    echo "installing:$$missing"; \
	    SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	    $$SUDO apt-get update -q && \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q $$missing; \
	fi
	@# the MCP SDK client of tests/cli/mcp.sh, at the version package-lock.json pins
	@if [ ! tests/mcp/node_modules/.package-lock.json -nt tests/mcp/package-lock.json ]; then \
	    if ! command -v npm >/dev/null; then \
	        SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	        $$SUDO apt-get update -q && \
	        DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q nodejs npm; \
	    fi; \
	    npm ci --prefix tests/mcp --no-audit --no-fund; \
	fi

# The main job on a fresh machine (README's first command): install what is
# missing, build, prepare the default corpus once, run one experiment with
# the default budget (RUN_ARGS adds options), record its card, print the
# brief (or the card, before ar-brief exists).
RUN_ARGS ?=
run: deps
	@$(MAKE) --no-print-directory all
	@data="$${AR_DATA:-$$HOME/.cache/ar}"; \
	if [ ! -f "$$data/manifest.json" ]; then bin/ar-train prepare || exit 1; fi
	@bin/ar-train $(RUN_ARGS) >run.log; rc=$$?; cat run.log; \
	id=$$(awk '/^card:/ {print $$2}' run.log); \
	if [ -n "$$id" ]; then \
	    if [ -x bin/ar-brief ]; then bin/ar-brief; else bin/ar-card show "$$id"; fi; \
	fi; \
	exit $$rc

# Fuzzing (tests/fuzz/README): libFuzzer entry points built with clang and
# ASan/UBSan over objects of their own (tests/fuzz/obj/, never the build's),
# each run for FUZZ_SECONDS from its seed corpus tests/fuzz/corpus/NAME/;
# new inputs go to tests/fuzz/work/NAME/, crashes to tests/fuzz/crash-NAME-*;
# FUZZ_ARGS adds libFuzzer options (-detect_leaks=0, -jobs=2).
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 30
FUZZ_ARGS    ?=
FUZZ_CFLAGS  := -O1 -g -std=gnu11 -Wall -Wextra -Werror -fopenmp -pthread -MMD -MP \
                -fsanitize=address,undefined -fno-sanitize-recover=undefined \
                -Ilib -Itrainer -Ikernels -DNLP_CORPUS_VERSION='"$(NLP_CORPUS_VERSION)"' \
                $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
FUZZ_SRC     := $(LIB_SRC) trainer/config.c
FUZZ_OBJ     := $(FUZZ_SRC:%.c=tests/fuzz/obj/%.o)
FUZZERS      := $(patsubst %.c,%,$(wildcard tests/fuzz/fuzz_*.c))

tests/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

tests/fuzz/obj/libfuzz.a: $(FUZZ_OBJ)
	rm -f $@ && $(AR) rcs $@ $^

tests/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/obj/libfuzz.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< tests/fuzz/obj/libfuzz.a \
	    -fopenmp -pthread $(LDLIBS)

fuzz-build: $(FUZZERS)

fuzz: fuzz-build
	@for f in $(FUZZERS); do n=$${f##*/fuzz_}; mkdir -p tests/fuzz/work/$$n; \
	    echo "== $$f: $(FUZZ_SECONDS) s"; \
	    if ! $$f -max_total_time=$(FUZZ_SECONDS) -close_fd_mask=3 -print_final_stats=1 $(FUZZ_ARGS) \
	        -artifact_prefix=tests/fuzz/crash-$$n- tests/fuzz/work/$$n tests/fuzz/corpus/$$n \
	        >tests/fuzz/work/$$n.log 2>&1; then \
	        grep -E '^(==[0-9]+==|SUMMARY|    #[0-9] )|Test unit written' tests/fuzz/work/$$n.log | head -40; \
	        echo "fuzz: $$f found a failure (log tests/fuzz/work/$$n.log)"; exit 1; \
	    fi; \
	    grep -E '^stat::(number_of_executed_units|new_units_added)' tests/fuzz/work/$$n.log; \
	done

clean:
	rm -f lib/*/*.o lib/*.a trainer/*.o kernels/*.o kernels/*/*.o kernels/*/*.d kernels/cuda.flag \
	    $(TOOLS) $(UNITS) $(GPU_SRC:.c=) $(DEPS)
	rm -rf tests/tmp tests/fuzz/obj $(FUZZERS)

.PHONY: all test check-layers bench install deps clean run cuda gpu-emu FORCE fuzz fuzz-build

-include $(DEPS) $(FUZZ_OBJ:.o=.d)
.SECONDARY:
