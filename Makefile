# The two commands. CMake is the build; this file only sets up and calls it.
#   make demo   install packages, build, generate galaxies, train cnn1 on them
#   make test   install packages, build, run the whole suite through ctest
#   make test-sanitize   the suite again, built with AddressSanitizer and UBSan
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: demo test test-sanitize setup build clean

setup:
	./tools/setup.sh

build: setup
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# Its own build folder, so the sanitized objects never mix with build/. The C++
# code is instrumented; the CUDA kernels are not (nvcc's host pass stays plain).
# protect_shadow_gap=0: the CUDA driver maps memory where ASan keeps its gap.
# allocator_may_return_null=1: an allocation past a memory cap fails as it does
# without ASan (std::bad_alloc, which a model-file test provokes on purpose).
# The fuzz test is left out: its harnesses carry their own sanitizers.
SANITIZE_BUILD ?= build-sanitize
SANITIZE_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -g
test-sanitize: setup
	cmake -S . -B $(SANITIZE_BUILD) -DCMAKE_BUILD_TYPE=Release \
	  "-DCMAKE_CXX_FLAGS=$(SANITIZE_FLAGS)" \
	  "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined" $(CMAKE_FLAGS)
	cmake --build $(SANITIZE_BUILD) -j $(JOBS)
	cd $(SANITIZE_BUILD) && \
	  ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:protect_shadow_gap=0:allocator_may_return_null=1 \
	  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS) -E '^fuzz_readers$$'

demo: build
	./tools/demo.sh $(BUILD)

clean:
	rm -rf $(BUILD)
