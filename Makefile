# npfast: the two front-door commands are `make bench` (the main job) and `make test`.
#   make bench   install what is needed, build and install npfast, run the benchmark report
#   make test    install what is needed, build and install npfast, run every test
# Developer targets: `make dev` (build/dev, importable with PYTHONPATH=build/dev/python),
# `make cpp-test`, `make asan`, `make py-test`, `make stubs`.

PY      ?= python3
CXX     ?= g++
JOBS    ?= $(shell nproc)
BENCH_OUT ?= bench-out
BENCH_ARGS ?=
PIP     := $(PY) -m pip install --disable-pip-version-check -q
# What building the package needs (both front doors), then what the C++ tests add. The clang
# runtime's package is named by clang's version: 14 is Debian 12's clang.
BUILD_PKGS := g++ python3-dev python3-pip ninja-build ccache
TEST_PKGS := libgtest-dev libbenchmark-dev clang libclang-rt-14-dev
# The release library compiles alike for the Python package (`install`) and for the C++ tests
# (build/release): the same compiler and flags, so through ccache the second build reuses the
# first one's objects (about 2 of the test run's minutes; `make test` runs them one after the
# other: under make -j they would build at once and miss). `command -v` runs with the recipe,
# after deps-apt has installed ccache; without it the launcher is empty.
INSTALL_WERROR ?= OFF
LAUNCHER = $$(command -v ccache)
# ccache keys hold the paths a compile names. With the base directory set, paths under the
# checkout are hashed (and passed to the compiler) relative to it, so a fresh clone in another
# folder (CI's) reuses the objects of an earlier clone's builds: release, ASan, TSan and fuzz
# alike. The sanitizer builds make debug info, for which ccache also hashes the build folder
# unless -fdebug-prefix-map maps it (DEBUG_MAP; their reports then name ./build/<dir>/../../src).
export CCACHE_BASEDIR := $(CURDIR)
DEBUG_MAP = -fdebug-prefix-map=$(CURDIR)=.

.PHONY: bench test deps deps-apt deps-apt-build deps-bench install dev cpp-test consumer asan asan-py tsan fuzz py-test stubs stubs-check clean

FUZZ_SECONDS ?= 5

# ---- the two front doors ---------------------------------------------------------------
bench: deps-bench install
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(PY) -m npfast bench --out $(BENCH_OUT) $(BENCH_ARGS)

# Under `make test` the package builds with -Werror, as build/release does, so that the two
# compile the library alike (ccache, below); `make bench` and a user's pip install do not, so
# a newer compiler's new warning cannot stop them.
test: INSTALL_WERROR = ON
test: deps install cpp-test consumer asan asan-py tsan fuzz stubs-check py-test
	@echo "make test: all passed"

# ---- dependencies ------------------------------------------------------------------------
# apt-get only when a package is missing (CI runs as root on a Debian machine).
APT_MISSING = missing=$$(for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "apt-get install $$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

deps-apt-build:
	@$(call APT_MISSING,$(BUILD_PKGS))

deps-apt:
	@$(call APT_MISSING,$(BUILD_PKGS) $(TEST_PKGS))

# pip installs into the Python that PY names: an active virtual environment's where one is
# active. Debian's own /usr/bin/python3 refuses installs outside one (PEP 668, "externally
# managed"); the front doors are for a machine set up to run them (CI's, a fresh VM), so they
# install there anyway. To keep a system Python clean, activate a virtual environment first.
export PIP_BREAK_SYSTEM_PACKAGES := 1

deps: deps-apt
	$(PIP) -r requirements/test.txt

deps-bench: deps-apt-build
	$(PIP) -r requirements/bench.txt

# ---- builds ------------------------------------------------------------------------------
# The user's path: pip builds the extension with scikit-build-core and installs the package.
install:
	$(PY) -m pip install --disable-pip-version-check -q --no-build-isolation \
	  -Ccmake.define.CMAKE_CXX_COMPILER=$(CXX) -Ccmake.define.CMAKE_CXX_COMPILER_LAUNCHER=$(LAUNCHER) \
	  -Ccmake.define.NPFAST_WERROR=$(INSTALL_WERROR) .

build/release/build.ninja:
	cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DNPFAST_TESTS=ON \
	  -DCMAKE_CXX_COMPILER=$(CXX) -DCMAKE_CXX_COMPILER_LAUNCHER=$(LAUNCHER) -DNPFAST_WERROR=ON

cpp-test: build/release/build.ninja
	cmake --build build/release -j $(JOBS)
	cd build/release && ctest --output-on-failure -j $(JOBS)

# A separate C++ project finds the installed package with find_package(npfast).
consumer: cpp-test
	cmake --install build/release --prefix build/prefix >/dev/null
	cmake -S examples/cpp -B build/consumer -G Ninja -DCMAKE_PREFIX_PATH=$(CURDIR)/build/prefix >/dev/null
	cmake --build build/consumer
	./build/consumer/npfast_consumer

# One ASan+UBSan build serves the C++ tests and the Python smoke run (asan-py). At -O1 with
# line tables (-g1), the optimisation ASan's documentation recommends: 2.5 min to build here
# against 5.5 min at RelWithDebInfo (-O2 -g), for 18 s more of test time. The -O2 code paths
# are tested by the release build.
asan:
	cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1 $(DEBUG_MAP)" \
	  -DNPFAST_TESTS=ON -DNPFAST_PYTHON=ON -DNPFAST_SANITIZE=address,undefined \
	  -DCMAKE_CXX_COMPILER_LAUNCHER=$(LAUNCHER) >/dev/null
	cmake --build build/asan -j $(JOBS)
	cd build/asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1 ctest --output-on-failure -j $(JOBS)

# A Python smoke run with the extension built under ASan+UBSan (the runtime preloaded into the
# interpreter; leak checks off because CPython keeps objects alive at exit by design).
ASAN_PY_TESTS ?= tests/python/test_contract.py tests/python/test_properties.py tests/python/test_threads.py -m "not slow"
asan-py: asan
	LD_PRELOAD="$$($(CXX) -print-file-name=libasan.so) $$($(CXX) -print-file-name=libubsan.so)" \
	  ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=halt_on_error=1 PYTHONPATH=build/asan/python \
	  $(PY) -m pytest -q -x -p no:cacheprovider $(ASAN_PY_TESTS)

# The thread pool and allocator stress tests under ThreadSanitizer. A Debug build (-O0, asserts
# on): 44 s to build against 86 s at RelWithDebInfo, and the tests take 4 s instead of 2.5 s.
# npfast_tsan_tests holds only the test sources with these tests (tests/cpp/CMakeLists.txt);
# where the release build's npfast_tests exists (always under `make test`: cpp-test runs
# first), the two must list the same tests for TSAN_FILTER, so a new matching test in another
# file stops the run instead of going untested.
TSAN_FILTER = Threads.*:Pool.*:*Concurren*
tsan:
	cmake -S . -B build/tsan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-g $(DEBUG_MAP)" \
	  -DNPFAST_TESTS=ON -DNPFAST_SANITIZE=thread -DCMAKE_CXX_COMPILER_LAUNCHER=$(LAUNCHER) >/dev/null
	cmake --build build/tsan -j $(JOBS) --target npfast_tsan_tests
	@if [ -x build/release/tests/cpp/npfast_tests ]; then \
	  build/release/tests/cpp/npfast_tests --gtest_list_tests --gtest_filter='$(TSAN_FILTER)' >build/tsan/want.txt && \
	  ./build/tsan/tests/cpp/npfast_tsan_tests --gtest_list_tests --gtest_filter='$(TSAN_FILTER)' >build/tsan/got.txt && \
	  diff -u build/tsan/want.txt build/tsan/got.txt || \
	  { echo "npfast_tsan_tests lacks tests matching $(TSAN_FILTER): add their sources to it"; exit 1; }; fi
	TSAN_OPTIONS=halt_on_error=1 ./build/tsan/tests/cpp/npfast_tsan_tests --gtest_filter='$(TSAN_FILTER)'

# libFuzzer (clang) over every fuzz/fuzz_*.cc with ASan+UBSan, FUZZ_SECONDS each, starting
# from the committed corpus (new finds go to build/fuzz/corpus, not into the repository). The
# pool's cache is capped so that cached blocks do not count against libFuzzer's RSS limit.
# -O1 with line tables, as for asan: a minute less to build than -O2 -g, and as many
# executions in 5 s (94k against 86k for fuzz_conv).
fuzz:
	CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=Debug \
	  -DCMAKE_CXX_FLAGS_DEBUG="-O1 -gline-tables-only $(DEBUG_MAP)" -DNPFAST_FUZZ=ON \
	  -DNPFAST_TESTS=OFF -DNPFAST_SANITIZE=address,undefined \
	  -DCMAKE_CXX_COMPILER_LAUNCHER=$(LAUNCHER) >/dev/null
	cmake --build build/fuzz -j $(JOBS)
	@for f in build/fuzz/fuzz/fuzz_*; do \
	  name=$$(basename $$f); name=$${name#fuzz_}; mkdir -p build/fuzz/corpus/$$name fuzz/corpus/$$name; \
	  echo "fuzz $$name ($(FUZZ_SECONDS) s)"; \
	  NPFAST_POOL_LIMIT=67108864 $$f -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=4096 -print_final_stats=1 \
	    build/fuzz/corpus/$$name fuzz/corpus/$$name \
	    2>build/fuzz/$$name.log || { tail -50 build/fuzz/$$name.log; exit 1; }; \
	  grep -E "number_of_executed_units" build/fuzz/$$name.log; \
	done

# Tests run against the installed package, from the repository root, on JOBS pytest-xdist
# workers (most tests run on one core; tests/python/conftest.py gives each worker's PyTorch one
# thread). loadgroup keeps a module marked xdist_group on one worker (test_bench_cli: its
# module-scoped report is made once).
py-test:
	$(PY) -m pytest -q -n $(JOBS) --dist loadgroup tests/python

dev:
	cmake -S . -B build/dev -G Ninja -DNPFAST_PYTHON=ON -DNPFAST_TESTS=ON -DNPFAST_WERROR=ON >/dev/null
	cmake --build build/dev -j $(JOBS)

# Type stubs for the extension, generated by nanobind's stubgen from the installed package.
stubs:
	$(PY) -m nanobind.stubgen -q -m npfast._npfast -o python/npfast/_npfast.pyi

stubs-check:
	$(PY) -m nanobind.stubgen -q -m npfast._npfast -o build/_npfast.pyi
	diff -u python/npfast/_npfast.pyi build/_npfast.pyi || \
	  (echo "python/npfast/_npfast.pyi is stale: run 'make stubs'"; exit 1)

clean:
	rm -rf build
