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
	@cmake --preset $(PRESET) >/dev/null
	@cmake --build --preset $(PRESET) -j $(JOBS)

test: build
	@ctest --preset $(PRESET) -j $(JOBS)

demo: build
	$(GRAPEVINE) train --data fashion-mnist --model mlp:784-256-128-10 \
	    --optimizer sgd --lr 0.05 --momentum 0.9 --batch 64 --epochs 3

bench: build
	@bench/run_all.sh $(BUILD)

clean:
	rm -rf build
