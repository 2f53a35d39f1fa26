# Two commands do everything on a fresh Debian 12 machine (see README):
#   make demo   install what is missing, build, run the main job
#   make test   install what is missing, build, run every test
# Both are safe to run again. PRESET=debug|asan picks another build.
PRESET ?= release
BUILD  := build/$(PRESET)
JOBS   ?= $(shell nproc)
GRAPEVINE := $(BUILD)/tools/grapevine

.PHONY: demo test deps build bench clean

deps:
	@scripts/install-deps.sh

build: deps
	@# A build folder made by the old Makefile generator: start it again with Ninja.
	@if [ -f $(BUILD)/CMakeCache.txt ] && ! grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja$$' $(BUILD)/CMakeCache.txt; then \
	  echo "build: $(BUILD) was made with another generator; configuring it again with Ninja"; \
	  rm -rf $(BUILD); fi
	@cmake --preset $(PRESET) >/dev/null
	@cmake --build --preset $(PRESET) -j $(JOBS)

# Skipped tests (no network namespaces, no Slurm, ...) say why after ctest's summary.
test: build
	@status=0; ctest --preset $(PRESET) -j $(JOBS) || status=$$?; \
	  scripts/print_skips.sh $(BUILD); exit $$status

# The main job: a swarm of 8 agents (ring on 127.0.0.1:30000-30007, dimat) training on
# non-IID (dirichlet:0.5) shards of Fashion-MNIST for about 2 minutes on 2 cores;
# progress live, then a run folder with summary.json and report.html.
demo: build
	$(GRAPEVINE) launch --out runs/demo-$$(date +%Y%m%d-%H%M%S)

bench: build
	@bench/run_all.sh $(BUILD)

clean:
	rm -rf build
