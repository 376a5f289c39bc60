# mongowatch — build, test and install.
#
#   make                 libraries: lib/libmongowatch.so (soname libmongowatch.so.0)
#                        and lib/libmongowatch.a
#   make check           installs missing dependencies (scripts/install-deps),
#                        builds everything, runs the unit and integration suites
#                        against a real server (test/server)
#   make tsan-check      the threaded suites again under ThreadSanitizer (not
#                        part of check: see below)
#   make fuzz            the fuzz targets (test/fuzz/), FUZZ_SECONDS each
#   make install PREFIX=/usr/local DESTDIR=   header, libraries, pkg-config file
#   make uninstall
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
DESTDIR      ?=

CC           ?= cc
PKG_CONFIG   ?= pkg-config
DEPS_PKGS    := libmongoc-1.0 libbson-1.0 jansson yaml-0.1

# Recursive (=) so that pkg-config runs when a recipe needs the flags, after
# `make check` has installed what was missing.
DEPS_CFLAGS   = $(shell $(PKG_CONFIG) --cflags $(DEPS_PKGS))
DEPS_LIBS     = $(shell $(PKG_CONFIG) --libs $(DEPS_PKGS))
CHECK_CFLAGS  = $(shell $(PKG_CONFIG) --cflags check)
CHECK_LIBS    = $(shell $(PKG_CONFIG) --libs check)

WARNINGS     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CFLAGS       ?= -O2 -g
ALL_CFLAGS    = -std=c11 -D_GNU_SOURCE $(WARNINGS) $(CFLAGS) -Iinclude $(DEPS_CFLAGS)
LIB_CFLAGS    = $(ALL_CFLAGS) -I$(BUILD) -fPIC -fvisibility=hidden
LIB_LIBS      = $(DEPS_LIBS) -lpthread -ldl -lm

BUILD        := build
LIB_SRCS     := $(sort $(wildcard lib/*.c))
LIB_OBJS     := $(LIB_SRCS:lib/%.c=$(BUILD)/lib/%.o)
SONAME       := libmongowatch.so.$(SOVERSION)
SHARED       := lib/libmongowatch.so.$(VERSION)
STATIC       := lib/libmongowatch.a
MASK_OBJ     := $(BUILD)/lib/mask/mask.o
PRELOAD      := lib/libmongowatch-preload.so
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

.PHONY: all check deps demo bench bench-peer bench-pipeline tests examples unit-check integration-check memcheck secure-check \
        install-check preload-check mask-check daemon-check examples-check csv-check deb-check load-check deb bench-workloads bench-callgrind tsan-check asan-check install uninstall clean FORCE

all: $(SHARED) lib/$(SONAME) lib/libmongowatch.so $(STATIC) $(PRELOAD) $(CLI) pkgconfig/mongowatch.pc

$(BUILD)/lib/%.o: lib/%.c
	@mkdir -p $(dir $@)
	$(CC) $(LIB_CFLAGS) -MMD -MP -c $< -o $@

$(SHARED): $(LIB_OBJS)
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--no-undefined -o $@ $(LIB_OBJS) $(LIB_LIBS)

lib/$(SONAME): $(SHARED)
	ln -sf $(notdir $(SHARED)) $@

lib/libmongowatch.so: lib/$(SONAME)
	ln -sf $(SONAME) $@

$(STATIC): $(LIB_OBJS)
	rm -f $@
	ar rcs $@ $(LIB_OBJS)

# Install paths the code needs (where the mask looks for configuration,
# where `mongowatch run` finds the mask), rewritten only when they change
# so that a build with another PREFIX recompiles what uses them.
$(BUILD)/paths.h: Makefile FORCE
	@mkdir -p $(dir $@)
	@printf '#define MWATCH_SYSCONFDIR "%s"\n#define MWATCH_LIBDIR "%s"\n#define MWATCH_VERSION "%s"\n' \
	   '$(SYSCONFDIR)' '$(LIBDIR)' '$(VERSION)' > $@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

$(BUILD)/lib/config-search.o: $(BUILD)/paths.h

# The mask: the whole library plus the constructor that patches and
# configures (lib/mask/mask.c says why it is not a mere dependency).

$(PRELOAD): $(LIB_OBJS) $(MASK_OBJ)
	$(CC) -shared -Wl,-soname,libmongowatch-preload.so -Wl,--no-undefined -o $@ $(LIB_OBJS) $(MASK_OBJ) $(LIB_LIBS)

# The command-line tool, linked as users' programs are.

$(BUILD)/cli/%.o: cli/%.c $(BUILD)/paths.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -I$(BUILD) -MMD -MP -c $< -o $@

$(CLI): $(CLI_OBJS) lib/libmongowatch.so
	@mkdir -p $(dir $@)
	$(CC) -o $@ $(CLI_OBJS) -Llib -Wl,-rpath,$(CURDIR)/lib -lmongowatch $(DEPS_LIBS)

# The installed one finds libmongowatch where the system looks, not here.
CLI_DIST     := $(BUILD)/bin/mongowatch-dist
$(CLI_DIST): $(CLI_OBJS) lib/libmongowatch.so
	@mkdir -p $(dir $@)
	$(CC) -o $@ $(CLI_OBJS) -Llib -lmongowatch $(DEPS_LIBS)

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

pkgconfig/mongowatch.pc: pkgconfig/mongowatch.pc.in Makefile FORCE
	sed -e 's|@PREFIX@|$(PC_PREFIX)|g' -e 's|@LIBDIR@|$(PC_LIBDIR)|g' \
	    -e 's|@INCLUDEDIR@|$(PC_INCLUDEDIR)|g' -e 's|@VERSION@|$(VERSION)|g' $< > $@.tmp
	if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

FORCE:

# ---------------------------------------------------------------- tests

$(BUILD)/test/%.o: test/%.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -MMD -MP -c $< -o $@

# -rdynamic: the example plugin, loaded by the config suite with dlopen,
# finds mongowatch's functions in the runner, as it would in a program.
$(UNIT_BIN): $(UNIT_SRCS:test/%.c=$(BUILD)/test/%.o) $(BUILD)/test/test-util.o $(STATIC) $(PLUGIN)
	$(CC) -rdynamic -o $@ $(filter %.o,$^) $(TEST_LIBS)

# The example ext:// plugin, built as its comment tells users to build it:
# mongowatch's symbols are left to the program that loads it.
$(PLUGIN): test/plugin/example-filter.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -shared -fPIC -o $@ $<

# Integration tests link the shared library the way a user's program does
# (-lmongowatch before -lmongoc-1.0), so that libmongoc's calls to its own
# functions go through mongowatch as they do in real programs.
$(INTEG_BIN): $(INTEG_SRCS:test/%.c=$(BUILD)/test/%.o) $(BUILD)/test/test-util.o $(BUILD)/test/test-capture.o lib/libmongowatch.so
	$(CC) -o $@ $(filter %.o,$^) -Llib -Wl,-rpath,$(CURDIR)/lib -lmongowatch $(CHECK_LIBS) $(DEPS_LIBS) -lpthread

$(PING_BIN): $(BUILD)/test/ping.o
	$(CC) -o $@ $^ $(DEPS_LIBS)

# NOT a MongoDB: the fake wire server of the load check (test/fake-server).
FAKE_SERVER  := $(BUILD)/test/fake-server
$(FAKE_SERVER): test/fake-server/fake-server.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(DEPS_LIBS) -lpthread

EXAMPLE_SRCS := $(sort $(wildcard examples/*.c))
EXAMPLE_BINS := $(EXAMPLE_SRCS:examples/%.c=$(BUILD)/examples/%)

# Examples link the shared library as `pkg-config --libs mongowatch` does.
$(BUILD)/examples/%: examples/%.c lib/libmongowatch.so
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< -Llib -Wl,-rpath,$(CURDIR)/lib -lmongowatch $(DEPS_LIBS)

examples: $(EXAMPLE_BINS)

# Benchmarks (not part of check; results in doc/PERFORMANCE.md).
BENCH_SRCS   := $(sort $(wildcard bench/*.c))
BENCH_BINS   := $(BENCH_SRCS:bench/%.c=$(BUILD)/bench/%)

BENCH_SRCS   := $(filter-out bench/workloads.c,$(BENCH_SRCS))
BENCH_BINS   := $(BENCH_SRCS:bench/%.c=$(BUILD)/bench/%)

$(BUILD)/bench/%: bench/%.c bench/bench-util.h $(STATIC)
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

$(BUILD)/bench/workloads-mongowatch: bench/workloads.c lib/libmongowatch.so
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DMWATCH_BENCH_LINKED -o $@ $< -Llib -Wl,-rpath,$(CURDIR)/lib \
	   -lmongowatch $(DEPS_LIBS) -lpthread

bench-workloads: $(WORKLOADS) $(PING_BIN)
	test/server run bench/run-workloads

bench-callgrind: $(WORKLOADS) $(PING_BIN)
	test/server run bench/callgrind-workloads

tests: all examples $(BENCH_BINS) $(FAKE_SERVER) $(UNIT_BIN) $(INTEG_BIN) $(PING_BIN) $(PLAIN_APP) $(SHIM) \
       $(DLOPEN_APP) $(MONGO_PLUGIN) $(DAEMON_APP)

deps:
	scripts/install-deps

# The README's "run" command: examples/plain_app under the mask with the
# sample configuration, against a local test server started (and stopped)
# for it; then the audit logs (scripts/demo).
demo:
	scripts/install-deps
	$(MAKE) all $(PLAIN_APP) $(PING_BIN)
	test/server run scripts/demo

bench-pipeline: $(BUILD)/bench/pipeline
	$(BUILD)/bench/pipeline 1000000 /dev/null 1
	$(BUILD)/bench/pipeline 1000000 /dev/null 0

# The performance suite of doc/PERFORMANCE.md, every part in one run (not
# part of check, which only builds it), as markdown on stdout: the
# workloads side by side against a local server (ops/s, CPU, callgrind),
# the Python peer on the same server (BENCH_PEER=0 leaves it out), the
# pipeline, the latency from an operation's end to its line in the file,
# and RSS over 10 million operations.  About 30 minutes on 2 cores.
bench: $(WORKLOADS) $(PING_BIN) $(BUILD)/bench/pipeline $(BUILD)/bench/latency $(BUILD)/bench/rss
	test/server run bench/run-all

# The Python peer (pymongo with and without pymongowatch 1.0.0, pinned),
# side by side on the same server and workloads; see bench/peer/README.md.
bench-peer: $(PING_BIN)
	test/server run bench/peer/run

# The README's test command.  Each step is its own make so that pkg-config
# runs after the dependencies are in place.
check:
	scripts/install-deps
	$(MAKE) tests
	$(MAKE) unit-check integration-check memcheck install-check preload-check mask-check \
	   daemon-check examples-check csv-check secure-check aggregate-check fuzz-check deb-check \
	   files-check load-check

# Load held (doc/RELIABILITY.md): bench/load against the fake wire server at
# 8 and 64 threads and against FerretDB at 8; records must equal operations.
load-check: $(BUILD)/bench/load $(FAKE_SERVER) $(PING_BIN)
	test/load-check

unit-check: $(UNIT_BIN)
	$(UNIT_BIN)

integration-check: $(INTEG_BIN) $(PING_BIN)
	test/server run $(INTEG_BIN)

# The unit suites again under valgrind: no invalid access, no leak.
VALGRIND := valgrind -q --error-exitcode=99 --leak-check=full --child-silent-after-fork=yes \
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

$(SHIM): $(BUILD)/test/preload/shim.o lib/libmongowatch.so
	$(CC) -shared -Wl,--no-undefined -o $@ $< -Llib -Wl,-rpath,$(CURDIR)/lib -lmongowatch

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
# without a postrotate SIGHUP) and, as root, a full 1 MiB tmpfs
# (issue 12): test/files-check.
FILES_APP := $(BUILD)/test/files_app
$(FILES_APP): test/files/files_app.c $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(STATIC) $(LIB_LIBS)

.PHONY: files-check
files-check: $(FILES_APP)
	test/files-check

examples-check: examples $(PING_BIN)
	test/server run test/examples-check

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

# Builds the Debian packages, installs them with dpkg, uses them, purges
# them (root): test/deb-check.  `make deb` only builds them, into ../.
deb-check: $(PLAIN_APP) $(PING_BIN)
	test/server run test/deb-check

deb:
	dpkg-buildpackage -us -uc -b

# ---------------------------------------------------------------- tsan

# make tsan-check: the library, the unit runner and the integration runner
# built again with -fsanitize=thread into $(BUILD)/tsan (so that the normal
# build is untouched), then the suites where threads meet (logging, queue,
# and the behaviour suite's threads case, 8 threads on a client pool,
# under test/server).  Any ThreadSanitizer report stops the run with status
# 66.  Not part of check: it rebuilds everything and runs several times
# slower.  CC=clang works as well as gcc.
TSAN_BUILD     := $(BUILD)/tsan
# MWATCH_TSAN: for a test to skip what TSan cannot follow (a child that
# starts threads after a multi-threaded fork).
TSAN_FLAGS     := -fsanitize=thread -O1 -g -DMWATCH_TSAN=1
TSAN_LIB_OBJS  := $(LIB_SRCS:lib/%.c=$(TSAN_BUILD)/lib/%.o)
TSAN_SHARED    := $(TSAN_BUILD)/lib/$(SONAME)
TSAN_STATIC    := $(TSAN_BUILD)/lib/libmongowatch.a
TSAN_UNIT_BIN  := $(TSAN_BUILD)/test/unit-tests
TSAN_INTEG_BIN := $(TSAN_BUILD)/test/integration-tests
# CK_FORK=no: a report ends the runner itself, not a child of Check's.
# ignore_noninstrumented_modules: libmongoc and libbson are not built with
# TSan, so the atomics of their own synchronisation are invisible to it and
# their memcpy and free calls raise false reports (a plain 8-thread
# libmongoc program on a pool, without mongowatch, gets one in about one run
# in five: a topology description freed by mongoc_shared_ptr_reset_null in
# _mongoc_topology_pop_server_session).  So what they do goes unreported;
# mongowatch's own accesses and locks are still checked.
TSAN_RUN       := TSAN_OPTIONS='halt_on_error=1 exitcode=66 ignore_noninstrumented_modules=1' \
                  CK_FORK=no

$(TSAN_BUILD)/lib/%.o: lib/%.c
	@mkdir -p $(dir $@)
	$(CC) $(LIB_CFLAGS) $(TSAN_FLAGS) -MMD -MP -c $< -o $@

$(TSAN_BUILD)/lib/config-search.o: $(BUILD)/paths.h

# Without --no-undefined: clang leaves the TSan runtime to the program.
$(TSAN_SHARED): $(TSAN_LIB_OBJS)
	$(CC) -shared -fsanitize=thread -Wl,-soname,$(SONAME) -o $@ $^ $(LIB_LIBS)

$(TSAN_BUILD)/lib/libmongowatch.so: $(TSAN_SHARED)
	ln -sf $(SONAME) $@

$(TSAN_STATIC): $(TSAN_LIB_OBJS)
	rm -f $@
	ar rcs $@ $^

$(TSAN_BUILD)/test/%.o: test/%.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) $(TSAN_FLAGS) -MMD -MP -c $< -o $@

$(TSAN_UNIT_BIN): $(UNIT_SRCS:test/%.c=$(TSAN_BUILD)/test/%.o) $(TSAN_BUILD)/test/test-util.o $(TSAN_STATIC)
	$(CC) -fsanitize=thread -o $@ $(filter %.o,$^) $(TSAN_STATIC) $(CHECK_LIBS) $(LIB_LIBS)

$(TSAN_INTEG_BIN): $(INTEG_SRCS:test/%.c=$(TSAN_BUILD)/test/%.o) $(TSAN_BUILD)/test/test-util.o $(TSAN_BUILD)/test/test-capture.o $(TSAN_BUILD)/lib/libmongowatch.so
	$(CC) -fsanitize=thread -o $@ $(filter %.o,$^) -L$(TSAN_BUILD)/lib \
	   -Wl,-rpath,$(CURDIR)/$(TSAN_BUILD)/lib -lmongowatch $(CHECK_LIBS) $(DEPS_LIBS) -lpthread

tsan-check: $(TSAN_UNIT_BIN) $(TSAN_INTEG_BIN) $(PING_BIN)
	$(TSAN_RUN) CK_RUN_SUITE=logging $(TSAN_UNIT_BIN)
	$(TSAN_RUN) CK_RUN_SUITE=queue $(TSAN_UNIT_BIN)
	$(TSAN_RUN) CK_RUN_SUITE=behaviour CK_RUN_CASE=threads test/server run $(TSAN_INTEG_BIN)

# make asan-check: everything again under ASan and UBSan (test/asan-check).
asan-check: $(PING_BIN)
	test/asan-check

# ---------------------------------------------------------------- fuzz

# make fuzz: the fuzz targets of test/fuzz/ (configuration files in YAML
# and JSON, expressions, templates, the redaction walker, the aggregate
# reader), built with clang's libFuzzer, ASan and UBSan into build/fuzz,
# each run for FUZZ_SECONDS from its seed corpus (test/fuzz/run).
# make fuzz-check: the same, FUZZ_CHECK_SECONDS each, as part of check,
# with a fixed seed, so that a run's path does not change from one
# machine to the next; `make fuzz` explores with a new seed each time.
FUZZ_SECONDS       ?= 60
FUZZ_CHECK_SECONDS ?= 10
.PHONY: fuzz fuzz-check
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) test/fuzz/run

fuzz-check:
	FUZZ_SECONDS=$(FUZZ_CHECK_SECONDS) FUZZ_OPTIONS="-seed=1 $(FUZZ_OPTIONS)" test/fuzz/run

# ---------------------------------------------------------------- install

MAN_PAGES    := doc/man/mongowatch.1 doc/man/mongowatch.3 doc/man/mongowatch.yaml.5

# The sample configuration goes to SYSCONFDIR unless one is there already;
# uninstall removes it only when it is still the sample.
install: all $(CLI_DIST)
	install -d $(DESTDIR)$(INCLUDEDIR)/mongowatch $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PKGCONFIGDIR) \
	   $(DESTDIR)$(BINDIR) $(DESTDIR)$(dir $(SAMPLE_CONFIG)) $(DESTDIR)$(MANDIR)/man1 \
	   $(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(MANDIR)/man5
	install -m 0755 $(CLI_DIST) $(DESTDIR)$(BINDIR)/mongowatch
	install -m 0755 $(PRELOAD) $(DESTDIR)$(LIBDIR)/
	[ -e $(DESTDIR)$(SAMPLE_CONFIG) ] || install -m 0644 etc/mongowatch.yaml $(DESTDIR)$(SAMPLE_CONFIG)
	install -m 0644 doc/man/mongowatch.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 doc/man/mongowatch.3 $(DESTDIR)$(MANDIR)/man3/
	install -m 0644 doc/man/mongowatch.yaml.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 include/mongowatch.h $(DESTDIR)$(INCLUDEDIR)/mongowatch.h
	install -m 0644 include/mongowatch/*.h $(DESTDIR)$(INCLUDEDIR)/mongowatch/
	install -m 0755 $(SHARED) $(DESTDIR)$(LIBDIR)/
	ln -sf $(notdir $(SHARED)) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libmongowatch.so
	install -m 0644 $(STATIC) $(DESTDIR)$(LIBDIR)/
	install -m 0644 pkgconfig/mongowatch.pc $(DESTDIR)$(PKGCONFIGDIR)/mongowatch.pc

uninstall:
	rm -f $(DESTDIR)$(INCLUDEDIR)/mongowatch.h
	rm -rf $(DESTDIR)$(INCLUDEDIR)/mongowatch
	rm -f $(DESTDIR)$(LIBDIR)/$(notdir $(SHARED)) $(DESTDIR)$(LIBDIR)/$(SONAME)
	rm -f $(DESTDIR)$(LIBDIR)/libmongowatch.so $(DESTDIR)$(LIBDIR)/libmongowatch.a
	rm -f $(DESTDIR)$(PKGCONFIGDIR)/mongowatch.pc
	rm -f $(DESTDIR)$(BINDIR)/mongowatch $(DESTDIR)$(LIBDIR)/$(notdir $(PRELOAD))
	rm -f $(DESTDIR)$(MANDIR)/man1/mongowatch.1 $(DESTDIR)$(MANDIR)/man3/mongowatch.3 \
	   $(DESTDIR)$(MANDIR)/man5/mongowatch.yaml.5
	! cmp -s etc/mongowatch.yaml $(DESTDIR)$(SAMPLE_CONFIG) || rm -f $(DESTDIR)$(SAMPLE_CONFIG)

clean:
	rm -rf $(BUILD) lib/*.so lib/*.so.* lib/*.a pkgconfig/mongowatch.pc

-include $(LIB_OBJS:.o=.d) $(MASK_OBJ:.o=.d) $(CLI_OBJS:.o=.d) $(wildcard $(BUILD)/test/*.d $(BUILD)/test/*/*.d $(BUILD)/examples/*.d)
-include $(wildcard $(TSAN_BUILD)/lib/*.d $(TSAN_BUILD)/test/*.d $(TSAN_BUILD)/test/*/*.d)
