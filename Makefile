# mongowatch — build, test and install.  Every output goes under build/.
#
#   make                 libraries: build/lib/libmongowatch.so (soname
#                        libmongowatch.so.0) and build/lib/libmongowatch.a,
#                        the mask build/lib/libmongowatch-preload.so, the
#                        command build/bin/mongowatch, build/pkgconfig/mongowatch.pc
#   make tests           also the test runners, examples and benchmarks
#   make deps            installs missing dependencies (scripts/install-deps;
#                        does nothing when everything is there)
#   make check           deps, builds everything, runs the unit and integration
#                        suites against a real server (test/server) and the
#                        other checks listed at `check:` below
#   make demo            deps, then examples/plain_app under the mask
#   make unit-check      the unit suites (CK_RUN_SUITE=NAME: one suite)
#   make integration-check   the integration suites under test/server
#   make SANITIZE=address unit-check integration-check
#                        the same build and suites with a sanitizer, into
#                        build/SANITIZE/: address (ASan and UBSan together),
#                        undefined (UBSan) or thread (TSan)
#   make COVERAGE=1 ...  the same with gcov's flags, into build/coverage/
#   make asan-check      make SANITIZE=address unit-check integration-check
#   make tsan-check      the threaded suites under SANITIZE=thread (not part
#                        of check: see below)
#   make fuzz            the fuzz targets (test/fuzz/), FUZZ_SECONDS each:
#                        make SANITIZE=fuzzer fuzz, the same rules with
#                        clang's libFuzzer, ASan and UBSan, into build/fuzzer/
#   make install PREFIX=/usr/local DESTDIR=   header, libraries, mask, command,
#                        pkg-config file, CMake package (LIBDIR/cmake/mongowatch),
#                        PREFIX/etc/mongowatch.yaml (writing to LOGDIR, made if
#                        missing), man pages, PREFIX/share/doc/mongowatch
#   make uninstall
#   make clean           removes build/
#
# Dependencies are found with pkg-config.

VERSION      := 0.1.0
SOVERSION    := 0
PREFIX       ?= /usr/local
LIBDIR       ?= $(PREFIX)/lib
INCLUDEDIR   ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
BINDIR       ?= $(PREFIX)/bin
SYSCONFDIR   ?= $(PREFIX)/etc
# Where make install puts the sample configuration (the mask also looks in
# SYSCONFDIR/mongowatch/: the Debian package puts it there).
SAMPLE_CONFIG ?= $(SYSCONFDIR)/mongowatch.yaml
MANDIR       ?= $(PREFIX)/share/man
# find_package(mongowatch): mongowatch-config.cmake and its version file.
CMAKEDIR     ?= $(LIBDIR)/cmake/mongowatch
# The sample configurations, the documents and the examples.
DOCDIR       ?= $(PREFIX)/share/doc/mongowatch
# Where the installed configuration writes its logs: the sample's
# /var/log/mongowatch for the system's prefixes, else under PREFIX (an
# install into a home folder, without root, writes to a folder it owns).
# make install makes the folder (0750) when it is missing.
ifneq ($(filter /usr /usr/local,$(PREFIX)),)
LOCALSTATEDIR ?= /var
else
LOCALSTATEDIR ?= $(PREFIX)/var
endif
LOGDIR       ?= $(LOCALSTATEDIR)/log/mongowatch
DESTDIR      ?=

CC           ?= cc
PKG_CONFIG   ?= pkg-config
# libmongoc 2.x names its pkg-config files mongoc2 and bson2:
# make MONGOC_PKGS="mongoc2 bson2" (doc/libmongoc-versions.md).
MONGOC_PKGS  ?= libmongoc-1.0 libbson-1.0
DEPS_PKGS    := $(MONGOC_PKGS) jansson yaml-0.1
# libcurl: its header only (types and constants); the otlp handler loads
# libcurl.so.4 when it is made (lib/curl-loader.c), so that a program
# without one, any program under the mask, never maps libcurl.
DEPS_HEADERS_ONLY := libcurl

# Recursive (=) so that pkg-config runs when a recipe needs the flags, after
# `make check` has installed what was missing.
DEPS_CFLAGS   = $(shell $(PKG_CONFIG) --cflags $(DEPS_PKGS) $(DEPS_HEADERS_ONLY))
DEPS_LIBS     = $(shell $(PKG_CONFIG) --libs $(DEPS_PKGS))
CHECK_CFLAGS  = $(shell $(PKG_CONFIG) --cflags check)
CHECK_LIBS    = $(shell $(PKG_CONFIG) --libs check)

WARNINGS     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CFLAGS       ?= -O2 -g

# ---------------------------------------------------------------- variants

# SANITIZE and COVERAGE give the same rules other flags and another output
# folder, so that the normal build in build/ is untouched: build/address/,
# build/undefined/, build/thread/, build/fuzzer/, build/coverage/
# (build/address-coverage/ with both).  Their flags come after CFLAGS, so
# their -O wins.
SANITIZE     ?=
COVERAGE     ?=
ifeq ($(SANITIZE),)
SAN_CFLAGS   :=
else ifeq ($(SANITIZE),address)
# ASan and UBSan together; any report ends the program.
SAN_CFLAGS   := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -O1 -g
else ifeq ($(SANITIZE),undefined)
SAN_CFLAGS   := -fsanitize=undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -O1 -g
else ifeq ($(SANITIZE),thread)
# MWATCH_TSAN: for a test to skip what TSan cannot follow (a child that
# starts threads after a multi-threaded fork).
SAN_CFLAGS   := -fsanitize=thread -O1 -g -DMWATCH_TSAN=1
else ifeq ($(SANITIZE),fuzzer)
# The fuzz targets (make fuzz, below): the library instrumented for
# libFuzzer's coverage, with ASan and UBSan; only the targets link
# libFuzzer itself (-fsanitize=fuzzer, whose main() runs them).  libFuzzer
# is clang's: FUZZ_CC, else CC when it is a clang, else clang.
SAN_CFLAGS   := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -O1 -g
override CC  := $(or $(FUZZ_CC),$(if $(findstring clang,$(notdir $(CC))),$(CC),clang))
ifneq ($(filter-out clean,$(MAKECMDGOALS)),)
ifeq ($(shell command -v $(CC) 2>/dev/null),)
$(error fuzz: no $(CC) (scripts/install-deps installs clang))
endif
endif
else
$(error SANITIZE=$(SANITIZE): use address (ASan with UBSan), undefined, thread or fuzzer (libFuzzer))
endif
ifeq ($(COVERAGE),1)
COV_CFLAGS   := --coverage -O0
else ifneq ($(filter-out 0,$(COVERAGE)),)
$(error COVERAGE=$(COVERAGE): use COVERAGE=1)
endif
VARIANT      := $(SANITIZE)$(if $(COV_CFLAGS),$(if $(SANITIZE),-)coverage)
# Linking needs the sanitizer's runtime (or gcov's) as well.
VARIANT_LDFLAGS := $(filter -fsanitize=% --coverage,$(SAN_CFLAGS) $(COV_CFLAGS))
# Without --no-undefined under a sanitizer: clang leaves its runtime to the
# program that loads the library.
NO_UNDEFINED := $(if $(SANITIZE),,-Wl,--no-undefined)

BUILD        := build$(if $(VARIANT),/$(VARIANT))

ALL_CFLAGS    = -std=c11 -D_GNU_SOURCE $(WARNINGS) $(CFLAGS) $(SAN_CFLAGS) $(COV_CFLAGS) -Iinclude $(DEPS_CFLAGS)
LIB_CFLAGS    = $(ALL_CFLAGS) -I$(BUILD) -fPIC -fvisibility=hidden
LIB_LIBS      = $(DEPS_LIBS) -lpthread -ldl -lm
LINK          = $(CC) $(VARIANT_LDFLAGS)

LIB_SRCS     := $(sort $(wildcard lib/*.c))
LIB_OBJS     := $(LIB_SRCS:lib/%.c=$(BUILD)/lib/%.o)
# The libraries go next to their objects; a program links them with
# $(LINK_MWATCH), as `pkg-config --libs mongowatch` does, and runs from
# the tree.
LIB_DIR      := $(BUILD)/lib
SONAME       := libmongowatch.so.$(SOVERSION)
SHARED       := $(LIB_DIR)/libmongowatch.so.$(VERSION)
SHARED_LINKS := $(LIB_DIR)/$(SONAME) $(LIB_DIR)/libmongowatch.so
STATIC       := $(LIB_DIR)/libmongowatch.a
MASK_OBJ     := $(BUILD)/lib/mask/mask.o
PRELOAD      := $(LIB_DIR)/libmongowatch-preload.so
PC           := $(BUILD)/pkgconfig/mongowatch.pc
LINK_MWATCH   = -L$(LIB_DIR) -Wl,-rpath,$(CURDIR)/$(LIB_DIR) -lmongowatch
CLI_SRCS     := $(sort $(wildcard cli/*.c))
CLI_OBJS     := $(CLI_SRCS:cli/%.c=$(BUILD)/cli/%.o)
CLI          := $(BUILD)/bin/mongowatch

UNIT_SRCS    := $(sort $(wildcard test/unit/*.c))
INTEG_SRCS   := $(sort $(wildcard test/integration/*.c))
UNIT_BIN     := $(BUILD)/test/unit-tests
INTEG_BIN    := $(BUILD)/test/integration-tests
PING_BIN     := $(BUILD)/test/ping
PLAIN_APP    := $(BUILD)/examples/plain_app
SHIM         := $(BUILD)/test/libmwatch-shim.so
PLUGIN       := $(BUILD)/test/libexample-filter.so
DLOPEN_APP   := $(BUILD)/test/dlopen_app
MONGO_PLUGIN := $(BUILD)/test/libmongo-plugin.so
DAEMON_APP   := $(BUILD)/test/daemon_app
TEST_CFLAGS   = $(ALL_CFLAGS) $(CHECK_CFLAGS) -Itest
# Tests link the static library so they run from the tree without install.
TEST_LIBS     = $(STATIC) $(CHECK_LIBS) $(LIB_LIBS)

# How the suites run under a sanitizer (a value already in the environment
# wins).  ASan's leak check runs at the end of every process, Check's
# forked children included.  Under TSan: a report ends the run with status
# 66, and CK_FORK=no makes that the runner itself, not a child of Check's;
# ignore_noninstrumented_modules: libmongoc and libbson are not built with
# TSan, so the atomics of their own synchronisation are invisible to it and
# their memcpy and free calls raise false reports (a plain 8-thread
# libmongoc program on a pool, without mongowatch, gets one in about one
# run in five: a topology description freed by mongoc_shared_ptr_reset_null
# in _mongoc_topology_pop_server_session).  So what they do goes
# unreported; mongowatch's own accesses and locks are still checked.
ifeq ($(SANITIZE),address)
export ASAN_OPTIONS  ?= detect_leaks=1:abort_on_error=0
endif
ifneq ($(filter address undefined,$(SANITIZE)),)
export UBSAN_OPTIONS ?= print_stacktrace=1:halt_on_error=1
endif
# detect_deadlocks=0: fork's prepare holds every lock of the library at
# once, in the rank order of lib/fork-private.h (several hundred: 64
# shards per pointer map), more than TSan's lock-order detector can track
# in one thread (it stops with "CHECK failed: sanitizer_deadlock_detector1");
# the lock order is the rank table's (doc/ARCHITECTURE.md), data races
# are still reported.
ifeq ($(SANITIZE),thread)
export TSAN_OPTIONS  ?= halt_on_error=1 exitcode=66 ignore_noninstrumented_modules=1 detect_deadlocks=0
export CK_FORK       ?= no
endif

# The checks that are scripts (test/*-check) use the normal build in
# build/: under a variant only these goals mean what they say (under
# SANITIZE=fuzzer, only the fuzz targets).
ifeq ($(SANITIZE),fuzzer)
VARIANT_GOALS := fuzz-targets fuzz fuzz-check clean
else
VARIANT_GOALS := all tests examples unit-check integration-check asan-check tsan-check clean
endif
ifneq ($(VARIANT),)
ifneq ($(filter-out $(VARIANT_GOALS) build/%,$(MAKECMDGOALS)),)
$(error $(filter-out $(VARIANT_GOALS) build/%,$(MAKECMDGOALS)) with SANITIZE or COVERAGE: only $(VARIANT_GOALS))
endif
endif

.PHONY: all check otlp-check deps demo bench bench-peer bench-floor bench-pipeline bench-scaling tests examples unit-check integration-check memcheck secure-check \
        install-check preload-check mask-check daemon-check examples-check csv-check deb-check load-check deb bench-workloads bench-callgrind tsan-check asan-check install uninstall clean FORCE

all: $(SHARED) $(SHARED_LINKS) $(STATIC) $(PRELOAD) $(CLI) $(PC)

$(BUILD)/lib/%.o: lib/%.c
	@mkdir -p $(dir $@)
	$(CC) $(LIB_CFLAGS) -MMD -MP -c $< -o $@

$(SHARED): $(LIB_OBJS)
	$(LINK) -shared -Wl,-soname,$(SONAME) $(NO_UNDEFINED) -o $@ $(LIB_OBJS) $(LIB_LIBS)

$(LIB_DIR)/$(SONAME): $(SHARED)
	ln -sf $(notdir $(SHARED)) $@

$(LIB_DIR)/libmongowatch.so: $(LIB_DIR)/$(SONAME)
	ln -sf $(SONAME) $@

$(STATIC): $(LIB_OBJS)
	rm -f $@
	ar rcs $@ $(LIB_OBJS)

# Install paths the code needs (where the mask looks for configuration,
# where `mongowatch run` finds the mask), rewritten only when they change
# so that a build with another PREFIX recompiles what uses them.
$(BUILD)/paths.h: Makefile FORCE
	@mkdir -p $(dir $@)
	@printf '#define MWATCH_SYSCONFDIR "%s"\n#define MWATCH_LIBDIR "%s"\n#define MWATCH_VERSION "%s"\n#define MWATCH_SOVERSION "%s"\n' \
	   '$(SYSCONFDIR)' '$(LIBDIR)' '$(VERSION)' '$(SOVERSION)' > $@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

$(BUILD)/lib/config-search.o: $(BUILD)/paths.h

# The mask: the whole library plus the constructor that patches and
# configures (lib/mask/mask.c says why it is not a mere dependency).

$(PRELOAD): $(LIB_OBJS) $(MASK_OBJ)
	$(LINK) -shared -Wl,-soname,libmongowatch-preload.so $(NO_UNDEFINED) -o $@ $(LIB_OBJS) $(MASK_OBJ) $(LIB_LIBS)

# The command-line tool, linked as users' programs are.

$(BUILD)/cli/%.o: cli/%.c $(BUILD)/paths.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -I$(BUILD) -MMD -MP -c $< -o $@

$(CLI): $(CLI_OBJS) $(SHARED_LINKS)
	@mkdir -p $(dir $@)
	$(LINK) -o $@ $(CLI_OBJS) $(LINK_MWATCH) $(DEPS_LIBS)

# The installed one finds libmongowatch where the system looks, not here.
CLI_DIST     := $(BUILD)/bin/mongowatch-dist
$(CLI_DIST): $(CLI_OBJS) $(SHARED_LINKS)
	@mkdir -p $(dir $@)
	$(LINK) -o $@ $(CLI_OBJS) -L$(LIB_DIR) -lmongowatch $(DEPS_LIBS)

# With the default layout the .pc file finds the prefix from its own place
# (${pcfiledir}), so a tree installed with DESTDIR works where it lands.
ifeq ($(LIBDIR)|$(INCLUDEDIR)|$(PKGCONFIGDIR),$(PREFIX)/lib|$(PREFIX)/include|$(PREFIX)/lib/pkgconfig)
PC_PREFIX    := $${pcfiledir}/../..
PC_LIBDIR    := $${prefix}/lib
PC_INCLUDEDIR := $${prefix}/include
else
PC_PREFIX    := $(PREFIX)
PC_LIBDIR    := $(LIBDIR)
PC_INCLUDEDIR := $(INCLUDEDIR)
endif

$(PC): pkgconfig/mongowatch.pc.in Makefile FORCE
	@mkdir -p $(dir $@)
	sed -e 's|@PREFIX@|$(PC_PREFIX)|g' -e 's|@LIBDIR@|$(PC_LIBDIR)|g' \
	    -e 's|@INCLUDEDIR@|$(PC_INCLUDEDIR)|g' -e 's|@VERSION@|$(VERSION)|g' $< > $@.tmp
	if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

# The live configuration make install puts at SAMPLE_CONFIG: the sample,
# writing to LOGDIR.
LIVE_CONFIG  := $(BUILD)/etc/mongowatch.yaml
$(LIVE_CONFIG): etc/mongowatch.yaml Makefile FORCE
	@mkdir -p $(dir $@)
	@sed -e 's|/var/log/mongowatch|$(LOGDIR)|g' $< > $@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

# The CMake package (cmake/*.in): the paths of the library and the header
# relative to CMAKEDIR, so that a staged tree (DESTDIR) works where it
# lands; the pointer size, for the version file's ABI check.
CMAKE_FILES  := $(BUILD)/cmake/mongowatch-config.cmake $(BUILD)/cmake/mongowatch-config-version.cmake
CMAKE_SUBST   = -e 's|@VERSION@|$(VERSION)|g' -e 's|@SOVERSION@|$(SOVERSION)|g' \
                -e 's|@CMAKE_LIBDIR_REL@|$(shell realpath -m --relative-to=$(CMAKEDIR) $(LIBDIR))|g' \
                -e 's|@CMAKE_INCLUDEDIR_REL@|$(shell realpath -m --relative-to=$(CMAKEDIR) $(INCLUDEDIR))|g' \
                -e 's|@SIZEOF_VOID_P@|$(shell echo __SIZEOF_POINTER__ | $(CC) -x c -E -P - | tail -n1)|g'
$(CMAKE_FILES): $(BUILD)/cmake/%: cmake/%.in Makefile FORCE
	@mkdir -p $(dir $@)
	@sed $(CMAKE_SUBST) $< > $@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

FORCE:

# ---------------------------------------------------------------- tests

$(BUILD)/test/%.o: test/%.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -MMD -MP -c $< -o $@

# -rdynamic: the example plugin, loaded by the config suite with dlopen,
# finds mongowatch's functions in the runner, as it would in a program.
$(UNIT_BIN): $(UNIT_SRCS:test/%.c=$(BUILD)/test/%.o) $(BUILD)/test/test-util.o $(STATIC) $(PLUGIN)
	$(LINK) -rdynamic -o $@ $(filter %.o,$^) $(TEST_LIBS)

# The example ext:// plugin, built as its comment tells users to build it:
# mongowatch's symbols are left to the program that loads it.
$(PLUGIN): test/plugin/example-filter.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -shared -fPIC -o $@ $<

# Integration tests link the shared library the way a user's program does
# (-lmongowatch before -lmongoc-1.0), so that libmongoc's calls to its own
# functions go through mongowatch as they do in real programs.
$(INTEG_BIN): $(INTEG_SRCS:test/%.c=$(BUILD)/test/%.o) $(BUILD)/test/test-util.o $(BUILD)/test/test-capture.o $(SHARED_LINKS)
	$(LINK) -o $@ $(filter %.o,$^) $(LINK_MWATCH) $(CHECK_LIBS) $(DEPS_LIBS) -lpthread

$(PING_BIN): $(BUILD)/test/ping.o
	$(LINK) -o $@ $^ $(DEPS_LIBS)

# The OpenTelemetry handler end to end (test/otlp-check): linked as a
# user's program is.
OTLP_APP     := $(BUILD)/test/otlp-app
$(OTLP_APP): test/otlp/otlp-app.c $(SHARED_LINKS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LINK_MWATCH) $(DEPS_LIBS)

# libcurl loaded only by the otlp handler (test/lazy-curl-check): the
# program is linked as a user's program is.
LAZY_CURL_APP := $(BUILD)/test/lazy-curl-app
$(LAZY_CURL_APP): test/lazy-curl/lazy-curl-app.c $(SHARED_LINKS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LINK_MWATCH) $(DEPS_LIBS)

.PHONY: lazy-curl-check
tests: $(LAZY_CURL_APP)

lazy-curl-check: all $(LAZY_CURL_APP)
	test/lazy-curl-check

# Real libmongoc against test/server's FerretDB, the otlp handler sending
# to a real OpenTelemetry Collector (test/collector); exits 77 (NOT RUN)
# when the Collector is not built.
otlp-check: $(OTLP_APP) $(PING_BIN) $(BUILD)/examples/otlp
	$(call not_run_ok,MONGOWATCH_PING=$(CURDIR)/$(PING_BIN) MONGOWATCH_OTLP_APP=$(CURDIR)/$(OTLP_APP) test/otlp-check)

# NOT a MongoDB: the fake wire server of the load check (test/fake-server).
FAKE_SERVER  := $(BUILD)/test/fake-server
$(FAKE_SERVER): test/fake-server/fake-server.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(DEPS_LIBS) -lpthread

EXAMPLE_SRCS := $(sort $(wildcard examples/*.c))
EXAMPLE_BINS := $(EXAMPLE_SRCS:examples/%.c=$(BUILD)/examples/%)

# Examples link the shared library as `pkg-config --libs mongowatch` does.
$(BUILD)/examples/%: examples/%.c $(SHARED_LINKS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LINK_MWATCH) $(DEPS_LIBS)

examples: $(EXAMPLE_BINS)

# Benchmarks (not part of check; results in doc/PERFORMANCE.md).
BENCH_SRCS   := $(sort $(wildcard bench/*.c))
BENCH_BINS   := $(BENCH_SRCS:bench/%.c=$(BUILD)/bench/%)

BENCH_SRCS   := $(filter-out bench/workloads.c,$(BENCH_SRCS))
BENCH_BINS   := $(BENCH_SRCS:bench/%.c=$(BUILD)/bench/%)

$(BUILD)/bench/%: bench/%.c $(wildcard bench/*.h) $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(STATIC) $(LIB_LIBS)

# The workloads benchmark, twice from one source: against libmongoc alone
# (bare, and bare with APM callbacks), and linked with -lmongowatch before
# libmongoc as users link it (unpatched pass-through, and watched).
WORKLOADS    := $(BUILD)/bench/workloads-bare $(BUILD)/bench/workloads-mongowatch
ifneq ($(wildcard bench/workloads.c),)
BENCH_BINS   += $(WORKLOADS)
endif

$(BUILD)/bench/workloads-bare: bench/workloads.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(DEPS_LIBS) -lpthread

$(BUILD)/bench/workloads-mongowatch: bench/workloads.c $(SHARED_LINKS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DMWATCH_BENCH_LINKED -o $@ $< $(LINK_MWATCH) $(DEPS_LIBS) -lpthread

# The workloads side by side (bench/run-workloads): unpinned, then the
# client and the server on separate cores (taskset; BENCH_PIN,
# BENCH_CLIENT_CPUS, BENCH_SERVER_CPUS), then callgrind.  About 40 minutes.
bench-workloads: $(WORKLOADS) $(PING_BIN)
	test/server run bench/run-workloads

bench-callgrind: $(WORKLOADS) $(PING_BIN)
	test/server run bench/callgrind-workloads

# A benchmark is not a test: check builds every one (tests) and runs none.
# Its scripts are read by bash -n, so that a slip shows here rather than at
# the next make bench.
BENCH_SCRIPTS := bench/run-workloads bench/run-all bench/callgrind-workloads bench/wakeups $(wildcard bench/peer/run)
.PHONY: bench-scripts
bench-scripts:
	@for s in $(BENCH_SCRIPTS); do bash -n $$s || exit 1; done

tests: bench-scripts
tests: all examples $(BENCH_BINS) $(FAKE_SERVER) $(UNIT_BIN) $(INTEG_BIN) $(PING_BIN) $(PLAIN_APP) $(SHIM) \
       $(DLOPEN_APP) $(MONGO_PLUGIN) $(DAEMON_APP)

deps:
	scripts/install-deps

# The README's "run" command: examples/plain_app under the mask with the
# sample configuration, against a local test server started (and stopped)
# for it; then the audit logs (scripts/demo).  What is missing is installed
# first (deps), and the rest is its own make so that pkg-config runs after.
demo: deps
	$(MAKE) all $(PLAIN_APP) $(PING_BIN)
	test/server run scripts/demo

# The floor under a record's CPU on a sparse stream (bench/floor.c): one
# wake-up and one write per record, 9 ms apart, without mongowatch.
bench-floor: $(BUILD)/bench/floor
	$(BUILD)/bench/floor 9000 400 $(BUILD)/bench/floor.log
	$(BUILD)/bench/floor 9000 400 /dev/null
	rm -f $(BUILD)/bench/floor.log

bench-pipeline: $(BUILD)/bench/pipeline
	$(BUILD)/bench/pipeline 1000000 /dev/null 1
	$(BUILD)/bench/pipeline 1000000 /dev/null 0

# The performance suite of doc/PERFORMANCE.md, every part in one run (not
# part of check, which only builds it), as markdown on stdout: the
# workloads side by side against a local server (ops/s, CPU, callgrind),
# the Python peer on the same server (BENCH_PEER=0 leaves it out), the
# pipeline, the latency from an operation's end to its line in the file,
# and RSS over 10 million operations, and the scaling part.  About 60
# minutes on 2 cores.
bench: $(WORKLOADS) $(PING_BIN) $(BUILD)/bench/pipeline $(BUILD)/bench/latency $(BUILD)/bench/rss \
       $(BUILD)/bench/overflow $(BUILD)/bench/scaling $(BUILD)/bench/floor $(FAKE_SERVER)
	test/server run bench/run-all

# The Python peer (pymongo with and without pymongowatch 1.0.0, pinned),
# side by side on the same server and workloads; see bench/peer/README.md.
bench-peer: $(PING_BIN)
	test/server run bench/peer/run

# The cost that must not grow with what is not used (doc/PERFORMANCE.md,
# "Scaling (issue 14)"): threads, filter size, loggers not reached, bare
# beside watched, against the fake wire server.
bench-scaling: $(BUILD)/bench/scaling $(FAKE_SERVER)
	bench/scaling-run

# The README's test command.  Each step is its own make so that pkg-config
# runs after the dependencies are in place.
check: deps
	$(MAKE) tests
	$(MAKE) layers-check unit-check integration-check memcheck install-check preload-check mask-check \
	   daemon-check examples-check csv-check secure-check aggregate-check fuzz-check deb-check \
	   files-check load-check pymongowatch-check pymongowatch-config-check pymongowatch-csv-check \
	   cli-check cmake-check syslog5424-check prefork-check node-exporter-check \
	   otlp-check man-check mongoc-versions-check lazy-curl-check

# The layers of doc/ARCHITECTURE.md held: no call or include up the layers,
# no cycle between files, every file in the source map, every private
# header declaring only its own files' functions (scripts/check-layers,
# from the objects of the normal build).
.PHONY: layers-check
layers-check: all $(CLI_OBJS)
	scripts/check-layers $(BUILD)

# Load held (doc/RELIABILITY.md): bench/load against the fake wire server at
# 8 and 64 threads and against FerretDB at 8; records must equal operations.
load-check: $(BUILD)/bench/load $(FAKE_SERVER) $(PING_BIN)
	test/load-check

unit-check: $(UNIT_BIN)
	$(UNIT_BIN)

# test/server waits for the server with this build's ping.
integration-check: $(INTEG_BIN) $(PING_BIN)
	MONGOWATCH_PING=$(CURDIR)/$(PING_BIN) test/server run $(INTEG_BIN)

# The unit suites again under valgrind: no invalid access, no leak.
# --fair-sched=yes: valgrind runs one thread at a time, and its default
# lock lets a thread that loops (a test's reporting or logging thread)
# take it back again and again, so that a thread waiting for a mutex
# never runs: "report locks" was killed at its 30 s bound in 2 runs of 3
# so, and passes in about 1 s with fair scheduling.
VALGRIND := valgrind -q --fair-sched=yes --error-exitcode=99 --leak-check=full --child-silent-after-fork=yes \
            --errors-for-leak-kinds=definite,indirect,possible
# "fork maps" forks 300 children to catch a deadlock, not a leak; under
# valgrind each child's exit is a leak check of its own, so it forks 10
# (MWATCH_MEMCHECK).
memcheck: $(UNIT_BIN)
	CK_FORK=no MWATCH_MEMCHECK=1 $(VALGRIND) $(UNIT_BIN)

# Installs into a temporary DESTDIR and builds an example against that tree
# with nothing but pkg-config, as a user would.
install-check: all
	test/install-check

# A program that never mentions mongowatch (examples/plain_app.c), compiled
# and linked against libmongoc alone (this rule, not the examples' one),
# and a test shim that patches from a constructor:
# test/preload-check runs the one with libmongowatch and the other
# preloaded.
MONGOC_CFLAGS = $(shell $(PKG_CONFIG) --cflags libmongoc-1.0)
MONGOC_LIBS   = $(shell $(PKG_CONFIG) --libs libmongoc-1.0)

$(BUILD)/examples/plain_app.o: examples/plain_app.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARNINGS) $(CFLAGS) $(MONGOC_CFLAGS) -MMD -MP -c $< -o $@

$(PLAIN_APP): $(BUILD)/examples/plain_app.o
	$(CC) -o $@ $^ $(MONGOC_LIBS)

$(BUILD)/test/preload/shim.o: test/preload/shim.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fPIC -MMD -MP -c $< -o $@

$(SHIM): $(BUILD)/test/preload/shim.o $(SHARED_LINKS)
	$(LINK) -shared $(NO_UNDEFINED) -o $@ $< $(LINK_MWATCH)

# A program with no MongoDB of its own, and the libmongoc plugin it loads
# with dlopen (test/mask-check).

$(DLOPEN_APP): test/preload/dlopen_app.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARNINGS) $(CFLAGS) -o $@ $< -ldl

$(MONGO_PLUGIN): test/preload/mongo_plugin.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARNINGS) $(CFLAGS) $(MONGOC_CFLAGS) -shared -fPIC \
	   -Wl,--no-undefined -o $@ $< $(MONGOC_LIBS)

preload-check: all $(PLAIN_APP) $(SHIM) $(PING_BIN)
	test/server run test/preload-check

mask-check: all $(PLAIN_APP) $(DLOPEN_APP) $(MONGO_PLUGIN) $(PING_BIN)
	test/server run test/mask-check

# A libmongoc program that daemonizes, forks workers, closes descriptors
# and execs itself, under the mask (test/daemon-check, issue 18).
$(DAEMON_APP): test/daemon/daemon_app.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARNINGS) $(CFLAGS) $(MONGOC_CFLAGS) -o $@ $< $(MONGOC_LIBS)

daemon-check: all $(DAEMON_APP) $(PING_BIN)
	test/server run test/daemon-check

# File handlers against a real logrotate (rename with `create`, with and
# without a postrotate SIGHUP, copytruncate, the WatchedFileHandler and
# TimedRotatingFileHandler classes of a configuration) and, as root, a full
# 1 MiB tmpfs
# (issue 12): test/files-check.
FILES_APP := $(BUILD)/test/files_app
$(FILES_APP): test/files/files_app.c $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(STATIC) $(LIB_LIBS)

# ... and a libmongoc program under the mask (MONGOWATCH_REOPEN_ON_SIGHUP),
# against the real server.
MASK_WRITER := $(BUILD)/test/mask_writer
$(MASK_WRITER): test/files/mask_writer.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARNINGS) $(CFLAGS) $(MONGOC_CFLAGS) -o $@ $< $(MONGOC_LIBS)

.PHONY: files-check
files-check: all $(FILES_APP) $(MASK_WRITER) $(PING_BIN)
	test/files-check

# The remote syslog handler (RFC 5424) against a real rsyslogd that
# test/rsyslog starts on loopback (issue 16, part 2): test/syslog5424-check,
# which exits 77 (NOT RUN) without rsyslogd.
SYSLOG5424_APP := $(BUILD)/test/syslog5424_app
$(SYSLOG5424_APP): test/syslog5424/syslog5424_app.c $(SHARED_LINKS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LINK_MWATCH) $(DEPS_LIBS)

tests: $(SYSLOG5424_APP)

.PHONY: syslog5424-check
syslog5424-check: all $(SYSLOG5424_APP) $(BUILD)/examples/syslog5424 $(PING_BIN)
	$(call not_run_ok,MONGOWATCH_PING=$(CURDIR)/$(PING_BIN) test/syslog5424-check)

# The real node_exporter's textfile collector reads the metrics handler's
# file (test/node-exporter-check; 77, NOT RUN, without node_exporter).
METRICS_WRITER := $(BUILD)/test/metrics_writer
$(METRICS_WRITER): test/metrics/metrics_writer.c $(SHARED_LINKS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LINK_MWATCH) $(DEPS_LIBS)

tests: $(METRICS_WRITER)

.PHONY: node-exporter-check
node-exporter-check: all $(METRICS_WRITER)
	$(call not_run_ok,test/node-exporter-check)

# Many processes, one file (issue 16): a pre-fork server under the mask,
# 8 workers x 10,000 finds into one JSON-lines file through a queue, with
# a rotating handler shared by all and with a rename half-way; every line
# read back (test/prefork-check).
PREFORK_APP := $(BUILD)/test/prefork_app
$(PREFORK_APP): test/prefork/prefork_app.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARNINGS) $(CFLAGS) $(MONGOC_CFLAGS) -o $@ $< $(MONGOC_LIBS)

tests: $(PREFORK_APP)

.PHONY: prefork-check
prefork-check: all $(PREFORK_APP) $(PING_BIN)
	test/server run test/prefork-check

examples-check: examples $(PING_BIN)
	test/server run test/examples-check

# The command from the build tree, nothing installed: `mongowatch run`
# leaves no /dev/shm/mongoc-PID behind (100 runs), uses build/lib's mask
# and audits; check-config's --dry-run and --open (test/cli-check).
.PHONY: cli-check
cli-check: all $(PLAIN_APP) $(PING_BIN)
	test/server run test/cli-check

# The CMake package: a CMake project builds examples/quickstart.c against a
# tree installed into a temporary DESTDIR, with mongowatch::mongowatch
# listed after mongo::mongoc_shared and before it, and runs both against
# the server (test/cmake-check; exit 77, did NOT run, without cmake).
.PHONY: cmake-check
cmake-check: all $(PING_BIN)
	$(call not_run_ok,test/server run test/cmake-check)

# A setuid-root program started by another user ignores that user's
# configuration (root, or sudo): test/secure-check.
secure-check: all
	test/secure-check

# Every row of the demo's watch.csv under its header, read by Python's csv
# module: test/csv-check.
csv-check: all $(PLAIN_APP) $(PING_BIN)
	test/server run test/csv-check

# mongowatch aggregate reads every record, whatever its fields hold, and
# names each line it cannot read (no server needed).
.PHONY: aggregate-check
aggregate-check: $(CLI)
	test/aggregate-check

# The differential test against pymongowatch 1.0.0 (issue 15): the same
# scenario through pymongo under pymongowatch (test/pymongowatch/scenario.py,
# in the venv test/pymongowatch-env makes) and through this C program under
# the mask, built with libmongoc alone; the final records compared field by
# field (test/pymongowatch-check; it exits 77, "did not run", without the
# venv).  pymongowatch-config-check: pymongowatch's sample configuration,
# its Python-only class paths replaced, through `mongowatch check-config`.
# A check that needs what a machine may lack (pymongowatch from the package
# index, cmake, rsyslogd; used by cmake-check and syslog5424-check too)
# exits 77 where it cannot have it: `make check` then goes on, saying loudly that the check
# did NOT run (never that it passed); any other failure stops it.
not_run_ok = $(1) || { s=$$?; [ $$s -eq 77 ] || exit $$s; \
  echo "*** $@: NOT RUN (what it needs is unavailable here, reason above); not counted as passed" >&2; }

PYMONGOWATCH_APP := $(BUILD)/test/pymongowatch-scenario
$(PYMONGOWATCH_APP): test/pymongowatch/scenario.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARNINGS) $(CFLAGS) $(MONGOC_CFLAGS) -o $@ $< $(MONGOC_LIBS)

.PHONY: pymongowatch-check pymongowatch-config-check
pymongowatch-check: all $(PYMONGOWATCH_APP) $(PING_BIN)
	$(call not_run_ok,test/server run test/pymongowatch-check)

pymongowatch-config-check: $(CLI)
	$(call not_run_ok,test/pymongowatch-config-check)

# mongowatch aggregate and pymongowatch-csv aggr write the same rows from a
# log pymongowatch wrote against the test server; exit 77 (did NOT run)
# where test/pymongowatch-env cannot install pymongowatch.
.PHONY: pymongowatch-csv-check
pymongowatch-csv-check: all $(PING_BIN)
	$(call not_run_ok,test/server run test/pymongowatch-csv-check)

# Builds the Debian packages, installs them with dpkg, uses them, purges
# them (root): test/deb-check.  `make deb` only builds them, into ../.
deb-check: $(PLAIN_APP) $(PING_BIN)
	test/server run test/deb-check

deb:
	dpkg-buildpackage -us -uc -b

# ---------------------------------------------------------------- sanitizers

# make asan-check: the unit suites and the integration suites (under
# test/server, with the ASan build of the shared library) built with
# AddressSanitizer and UndefinedBehaviorSanitizer into build/address/.  Any
# report fails the run.  The fork-maps suite forks fewer children under ASan
# (test/unit/test-fork-maps.c says why).  Run by .ci/run after check.
asan-check:
	$(MAKE) SANITIZE=address unit-check integration-check

# make tsan-check: the suites where threads meet (logging, queue, and the
# behaviour suite's threads case, 8 threads on a client pool, under
# test/server) built with ThreadSanitizer into build/thread/; the options
# are those of SANITIZE=thread above.  Not part of check: it rebuilds
# everything and runs several times slower.  CC=clang works as well as gcc.
tsan-check:
	CK_RUN_SUITE=logging $(MAKE) SANITIZE=thread unit-check
	CK_RUN_SUITE=queue $(MAKE) SANITIZE=thread unit-check
	CK_RUN_SUITE=metrics $(MAKE) SANITIZE=thread unit-check
	CK_RUN_SUITE="pending hands" CK_RUN_CASE="pending hands" $(MAKE) SANITIZE=thread unit-check
	CK_RUN_SUITE=behaviour CK_RUN_CASE=threads $(MAKE) SANITIZE=thread integration-check
	CK_RUN_SUITE=mongodb_handler $(MAKE) SANITIZE=thread integration-check

# ---------------------------------------------------------------- fuzz

# make fuzz: the fuzz targets of test/fuzz/ (configuration files in YAML
# and JSON, expressions, templates, the redaction walker, the aggregate
# reader), built by the rules above as the variant SANITIZE=fuzzer
# (libFuzzer, ASan and UBSan) into build/fuzzer/bin/, each run for
# FUZZ_SECONDS from its seed corpus (test/fuzz/run, which only runs them;
# FUZZ_TARGETS=NAME...: only those).
# make fuzz-check: the same, FUZZ_CHECK_SECONDS each, as part of check,
# with a fixed seed, so that a run's path does not change from one
# machine to the next; `make fuzz` explores with a new seed each time.
# Without SANITIZE, fuzz, fuzz-check and fuzz-targets are the same goal
# of `make SANITIZE=fuzzer`.
FUZZ_SECONDS       ?= 60
FUZZ_CHECK_SECONDS ?= 10
# One target per test/fuzz/*.c, but two from config.c: YAML and JSON.
FUZZ_TARGETS       ?= config-yaml config-json \
                      $(filter-out config,$(patsubst test/fuzz/%.c,%,$(sort $(wildcard test/fuzz/*.c))))
FUZZ_BINS          := $(FUZZ_TARGETS:%=$(BUILD)/bin/%)
FUZZ_CFLAGS         = $(ALL_CFLAGS) -I$(BUILD) -Icli
.PHONY: fuzz fuzz-check fuzz-targets

ifeq ($(SANITIZE),fuzzer)
fuzz-targets: $(FUZZ_BINS)

$(BUILD)/test/fuzz/config-%.o: test/fuzz/config.c
	@mkdir -p $(dir $@)
	$(CC) $(FUZZ_CFLAGS) -DFUZZ_CONFIG_SUFFIX='".$*"' -MMD -MP -c $< -o $@

$(filter-out $(BUILD)/test/fuzz/config-%,$(FUZZ_BINS:$(BUILD)/bin/%=$(BUILD)/test/fuzz/%.o)): $(BUILD)/test/fuzz/%.o: test/fuzz/%.c
	@mkdir -p $(dir $@)
	$(CC) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

# Linked with the library's objects themselves (no archive to build first)
# and the aggregate reader's (cli/aggregate-record.c).
$(FUZZ_BINS): $(BUILD)/bin/%: $(BUILD)/test/fuzz/%.o $(LIB_OBJS) $(BUILD)/cli/aggregate-record.o
	@mkdir -p $(dir $@)
	$(LINK) -fsanitize=fuzzer -o $@ $^ $(LIB_LIBS)

fuzz: fuzz-targets
	FUZZ_SECONDS=$(FUZZ_SECONDS) test/fuzz/run $(FUZZ_TARGETS)

fuzz-check: fuzz-targets
	FUZZ_SECONDS=$(FUZZ_CHECK_SECONDS) FUZZ_OPTIONS="-seed=1 $(FUZZ_OPTIONS)" test/fuzz/run $(FUZZ_TARGETS)
else
fuzz fuzz-check fuzz-targets:
	$(MAKE) SANITIZE=fuzzer $@
endif

# ---------------------------------------------------------------- install

MAN_PAGES    := doc/man/mongowatch.1 doc/man/mongowatch.3 doc/man/mongowatch.yaml.5

DOC_FILES    := README.md CHANGES.md $(wildcard doc/*.md) etc/mongowatch.yaml etc/mongowatch.json

# The live configuration (the sample, writing to LOGDIR) goes to
# SAMPLE_CONFIG unless one is there already; uninstall removes it only
# when it is still that.  LOGDIR is made when missing, 0750 (and group adm,
# Debian's group of those who read logs, when root installs), so that the
# configuration works at once for programs run as root; an existing one
# keeps its owner and mode (a service user may own it).  The sample itself,
# the documents and the examples go to DOCDIR.
install: all $(CLI_DIST) $(LIVE_CONFIG) $(CMAKE_FILES)
	install -d $(DESTDIR)$(INCLUDEDIR)/mongowatch $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PKGCONFIGDIR) \
	   $(DESTDIR)$(BINDIR) $(DESTDIR)$(dir $(SAMPLE_CONFIG)) $(DESTDIR)$(MANDIR)/man1 \
	   $(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(CMAKEDIR) $(DESTDIR)$(DOCDIR)/examples
	install -m 0755 $(CLI_DIST) $(DESTDIR)$(BINDIR)/mongowatch
	install -m 0755 $(PRELOAD) $(DESTDIR)$(LIBDIR)/
	[ -e $(DESTDIR)$(SAMPLE_CONFIG) ] || install -m 0644 $(LIVE_CONFIG) $(DESTDIR)$(SAMPLE_CONFIG)
	[ -d $(DESTDIR)$(LOGDIR) ] || { install -d -m 0750 $(DESTDIR)$(LOGDIR) && \
	   if [ "$$(id -u)" -eq 0 ] && getent group adm >/dev/null; then chgrp adm $(DESTDIR)$(LOGDIR); fi; }
	install -m 0644 doc/man/mongowatch.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 doc/man/mongowatch.3 $(DESTDIR)$(MANDIR)/man3/
	install -m 0644 doc/man/mongowatch.yaml.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 include/mongowatch.h $(DESTDIR)$(INCLUDEDIR)/mongowatch.h
	install -m 0644 include/mongowatch/*.h $(DESTDIR)$(INCLUDEDIR)/mongowatch/
	install -m 0755 $(SHARED) $(DESTDIR)$(LIBDIR)/
	ln -sf $(notdir $(SHARED)) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libmongowatch.so
	install -m 0644 $(STATIC) $(DESTDIR)$(LIBDIR)/
	install -m 0644 $(PC) $(DESTDIR)$(PKGCONFIGDIR)/mongowatch.pc
	install -m 0644 $(CMAKE_FILES) $(DESTDIR)$(CMAKEDIR)/
	install -m 0644 $(DOC_FILES) $(DESTDIR)$(DOCDIR)/
	install -m 0644 examples/*.c $(DESTDIR)$(DOCDIR)/examples/

# The log folder goes only when empty: logs are never removed.
uninstall: $(LIVE_CONFIG)
	rm -f $(DESTDIR)$(INCLUDEDIR)/mongowatch.h
	rm -rf $(DESTDIR)$(INCLUDEDIR)/mongowatch
	rm -f $(DESTDIR)$(LIBDIR)/$(notdir $(SHARED)) $(DESTDIR)$(LIBDIR)/$(SONAME)
	rm -f $(DESTDIR)$(LIBDIR)/libmongowatch.so $(DESTDIR)$(LIBDIR)/libmongowatch.a
	rm -f $(DESTDIR)$(PKGCONFIGDIR)/mongowatch.pc
	rm -f $(DESTDIR)$(BINDIR)/mongowatch $(DESTDIR)$(LIBDIR)/$(notdir $(PRELOAD))
	rm -f $(DESTDIR)$(MANDIR)/man1/mongowatch.1 $(DESTDIR)$(MANDIR)/man3/mongowatch.3 \
	   $(DESTDIR)$(MANDIR)/man5/mongowatch.yaml.5
	rm -f $(addprefix $(DESTDIR)$(CMAKEDIR)/,$(notdir $(CMAKE_FILES))) \
	   $(addprefix $(DESTDIR)$(DOCDIR)/,$(notdir $(DOC_FILES))) \
	   $(addprefix $(DESTDIR)$(DOCDIR)/,$(wildcard examples/*.c))
	rmdir $(DESTDIR)$(CMAKEDIR) $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR) 2>/dev/null || true
	! cmp -s $(LIVE_CONFIG) $(DESTDIR)$(SAMPLE_CONFIG) || rm -f $(DESTDIR)$(SAMPLE_CONFIG)
	rmdir $(DESTDIR)$(LOGDIR) 2>/dev/null || true

# ---------------------------------------------------------------- man pages

# One page per public function and variable, generated from the header
# comments by scripts/gen-man into build/man/man3 (never committed).
# mongowatch(3) lists them by area between two marker lines, which
# `scripts/gen-man --index doc/man/mongowatch.3` rewrites; man-check fails
# while that list is stale.
MAN3_DIR       := $(BUILD)/man/man3
MAN3_STAMP     := $(MAN3_DIR)/.stamp
PUBLIC_HEADERS := include/mongowatch.h $(wildcard include/mongowatch/*.h)

.PHONY: man man-check install-man3 uninstall-man3
all: man
man: $(MAN3_STAMP)

$(MAN3_STAMP): $(PUBLIC_HEADERS) scripts/gen-man
	rm -rf $(MAN3_DIR)
	scripts/gen-man --outdir $(MAN3_DIR) --version $(VERSION)
	touch $@

install: install-man3
install-man3: man
	install -d $(DESTDIR)$(MANDIR)/man3
	install -m 0644 $(MAN3_DIR)/*.3 $(DESTDIR)$(MANDIR)/man3/

uninstall: uninstall-man3
uninstall-man3:
	for f in $$(scripts/gen-man --list); do rm -f $(DESTDIR)$(MANDIR)/man3/$$f.3; done

# Every exported symbol has a page and every page a function of the header
# and the library; pages render without warnings; `man -k mwatch` finds
# them in a scratch mandb.
man-check: $(SHARED) man
	test/man-check $(SHARED)

# ---------------------------------------------------------------- libmongoc versions

# The wrappers of the functions libmongoc 2.0 removed compile only for 1.x
# (lib/mongoc-compat-private.h): checked with the installed headers, the
# version faked to 2.0.  mongoc-headers-check also builds against the
# headers of other versions, which mongoc-headers fetches (Debian's 1.17,
# 1.30 and 2.x, with apt-get download, into build/mongoc-headers).
.PHONY: mongoc-versions-check mongoc-headers mongoc-headers-check
mongoc-versions-check: all
	test/mongoc-versions-check

mongoc-headers:
	scripts/fetch-mongoc-headers

mongoc-headers-check: all
	test/mongoc-versions-check --headers

# Every output is under build/ (a variant's under build/VARIANT/).  The
# files in lib/ and pkgconfig/ are what builds before that left there.
clean:
	rm -rf $(BUILD)
	$(if $(VARIANT),,rm -f lib/*.so lib/*.so.* lib/*.a pkgconfig/mongowatch.pc)

-include $(LIB_OBJS:.o=.d) $(MASK_OBJ:.o=.d) $(CLI_OBJS:.o=.d) $(wildcard $(BUILD)/test/*.d $(BUILD)/test/*/*.d $(BUILD)/examples/*.d)
