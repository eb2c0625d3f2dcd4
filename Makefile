# The two commands. CMake is the build; this file only sets up and calls it.
#   make demo   install packages, build, generate galaxies, train cnn1 on them
#   make test   install packages, build, run the whole suite through ctest
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: demo test setup build clean

setup:
	./tools/setup.sh

build: setup
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

demo: build
	./tools/demo.sh $(BUILD)

clean:
	rm -rf $(BUILD)
