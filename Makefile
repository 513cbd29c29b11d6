# missive: top-level build.
#
#   make            build bin/missived, bin/missive, bin/missive-keys, bin/missive-admin,
#                   bin/missive-gtk (the GTK 4 client)
#   make demo       install missing Debian packages, build, start the demo
#   make check      install missing packages, build with ASan+UBSan, run every test
#                   (each fuzzer for a short smoke time, and `make lint`:
#                   tests/integration/00-lint.sh)
#   make fuzz       run each libFuzzer harness for FUZZ_TIME seconds (default 60;
#                   FUZZERS_RUN="frame b64" for some), see tests/fuzz/README.md
#   make lint       cppcheck and clang-tidy over every C file (.clang-tidy,
#                   scripts/cppcheck.supp); fails on any finding
#   make check-valgrind
#                   build without sanitizers (VARIANT=debug) and run every
#                   test with each program under valgrind memcheck; fails on
#                   any memcheck error or leak (tests/valgrind/)
#   make check-side-by-side
#                   two clones of this commit run `make check` at once and
#                   must both pass: test runs do not disturb each other
#                   (tests/side-by-side.sh; about twice make check's time)
#   make install    install binaries and sample config under $(DESTDIR)$(PREFIX)
#   make clean      remove build products (not var/, which holds the demo's data)
#
# Quiet unless V=1.  VARIANT=san builds with AddressSanitizer and UBSan into
# build/san/ (what `make check` uses); VARIANT=fuzz builds with clang, libFuzzer
# coverage, ASan and UBSan into build/fuzz/ (make fuzzers); VARIANT=debug builds
# with debug info and no sanitizer into build/debug/ (what `make check-valgrind`
# uses: ASan and valgrind do not mix); the default VARIANT=release builds into
# build/release/ and bin/.

PREFIX      ?= /usr/local
BINDIR_INST ?= $(PREFIX)/bin
SYSCONFDIR  ?= $(PREFIX)/etc/missive
DESTDIR     ?=
VARIANT     ?= release
CC          ?= cc
FUZZ_CC     ?= clang
PKG_CONFIG  ?= pkg-config

ifeq ($(V),1)
Q :=
else
Q := @
endif

PKGS := openssl libmariadb libconfig libargon2

# Issue 7, terminal UI and history: jansson (history exports, in libclient)
# for every program; ncursesw only for `missive` (--tui, client/tui*.c).
PKGS += jansson
TUI_LIBS   := $(shell $(PKG_CONFIG) --libs ncursesw 2>/dev/null)

BUILD := build/$(VARIANT)
ifeq ($(VARIANT),release)
OUTBIN := bin
OPTFLAGS := -O2 -D_FORTIFY_SOURCE=2
else ifeq ($(VARIANT),san)
OUTBIN := $(BUILD)/bin
OPTFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined
SANLDFLAGS := -fsanitize=address,undefined
else ifeq ($(VARIANT),fuzz)
# libFuzzer (tests/fuzz/): clang, coverage for the libraries, ASan+UBSan.
CC := $(FUZZ_CC)
OUTBIN := $(BUILD)/bin
OPTFLAGS := -O1 -g -fno-omit-frame-pointer \
	-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
SANLDFLAGS := -fsanitize=address,undefined
else ifeq ($(VARIANT),debug)
OUTBIN := $(BUILD)/bin
OPTFLAGS := -O1 -g -fno-omit-frame-pointer
else
$(error VARIANT must be release, san, fuzz or debug)
endif

WARNFLAGS := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wvla -Wpointer-arith \
	-Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
BASEFLAGS := -std=c17 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L \
	-fstack-protector-strong -fPIE -I. $(WARNFLAGS) \
	-DMISSIVE_SYSCONFDIR='"$(SYSCONFDIR)"'

# pkg-config for every library; fail loudly if one is missing.
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
CMOCKA_CFLAGS := $(shell $(PKG_CONFIG) --cflags cmocka 2>/dev/null)
CMOCKA_LIBS   := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

ALL_CFLAGS  = $(BASEFLAGS) $(OPTFLAGS) $(PKG_CFLAGS) $(CFLAGS) -MMD -MP
ALL_LDFLAGS = -pie -Wl,-z,relro,-z,now $(SANLDFLAGS) $(LDFLAGS)
LIBS        = $(PKG_LIBS) -lpthread

# Libraries: one per directory that more than one program links.
COMMON_SRC  := $(wildcard common/*.c)
KEYDIST_SRC := $(wildcard keydist/*.c)
SERVER_SRC  := $(filter-out server/main.c,$(wildcard server/*.c))
CLIENT_SRC  := $(filter-out client/main.c,$(wildcard client/*.c))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIBCOMMON  := $(BUILD)/libcommon.a
LIBKEYDIST := $(BUILD)/libkeydist.a
LIBSERVER  := $(BUILD)/libserver.a
LIBCLIENT  := $(BUILD)/libclient.a
# What a program links: the libraries it uses, users before what they use
# (static linking).  server/ and client/ use keydist/, which uses common/.
LINK_COMMON  := $(LIBCOMMON)
LINK_KEYDIST := $(LIBKEYDIST) $(LINK_COMMON)
LINK_SERVER  := $(LIBSERVER) $(LINK_KEYDIST)
LINK_CLIENT  := $(LIBCLIENT) $(LINK_KEYDIST)
LINK_LIBS    := $(LIBSERVER) $(LINK_CLIENT)

PROGRAMS := $(OUTBIN)/missived $(OUTBIN)/missive $(OUTBIN)/missive-keys \
	$(OUTBIN)/missive-admin

UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
# Small programs the integration tests drive (never installed).
TOOL_SRC   := $(wildcard tests/tools/*.c)
TEST_TOOLS := $(patsubst tests/tools/%.c,$(BUILD)/tests/tools/%,$(TOOL_SRC))

.PHONY: all demo check check-valgrind check-side-by-side tests deps clean \
	install lint
all: $(PROGRAMS)

tests: $(PROGRAMS) $(UNIT_TESTS) $(TEST_TOOLS)

deps:
	$(Q)scripts/deps.sh

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

define static_lib
$(1): $(call obj,$(2))
	@mkdir -p $$(dir $$@)
	@$$(if $$(Q),echo "  AR      $$@")
	$$(Q)rm -f $$@ && ar rcs $$@ $$^
endef
$(eval $(call static_lib,$(LIBCOMMON),$(COMMON_SRC)))
$(eval $(call static_lib,$(LIBKEYDIST),$(KEYDIST_SRC)))
$(eval $(call static_lib,$(LIBSERVER),$(SERVER_SRC)))
$(eval $(call static_lib,$(LIBCLIENT),$(CLIENT_SRC)))

# $(call program,NAME,SOURCES,LIBRARIES): $(OUTBIN)/NAME.
define program
$(OUTBIN)/$(1): $(call obj,$(2)) $(3)
	@mkdir -p $$(dir $$@)
	@$$(if $$(Q),echo "  LD      $$@")
	$$(Q)$$(CC) $$(ALL_CFLAGS) $$(ALL_LDFLAGS) -o $$@ $(call obj,$(2)) $(3) $$(LIBS)
endef
$(eval $(call program,missived,server/main.c,$(LINK_SERVER)))
$(eval $(call program,missive,client/main.c,$(LINK_CLIENT)))
# The admin tools (tools/) work on the server's keys, config and database.
$(eval $(call program,missive-admin,tools/missive-admin.c \
	tools/subcommand.c,$(LINK_SERVER)))
$(eval $(call program,missive-keys,tools/missive-keys.c \
	tools/subcommand.c,$(LINK_SERVER)))
$(OUTBIN)/missive: LIBS += $(TUI_LIBS)

# ---- missive-gtk: the GTK 4 client (gtk/), apart from the rest ----
# GTK's headers as system headers: our -W flags are for our code.
GTK_CFLAGS := $(patsubst -I%,-isystem %,$(shell $(PKG_CONFIG) --cflags gtk4 2>/dev/null))
GTK_LIBS   := $(shell $(PKG_CONFIG) --libs gtk4 2>/dev/null)
GTK_SRC    := $(wildcard gtk/*.c)
GTK_PROG   := $(OUTBIN)/missive-gtk
$(call obj,$(GTK_SRC)): ALL_CFLAGS += $(GTK_CFLAGS)
$(GTK_PROG): $(call obj,$(GTK_SRC)) $(LINK_CLIENT)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $(call obj,$(GTK_SRC)) \
		$(LINK_CLIENT) $(LIBS) $(GTK_LIBS)
all tests: $(GTK_PROG)
PROGRAMS += $(GTK_PROG)
# ---- end of missive-gtk ----

# The unit tests link every library (LINK_LIBS: a new tests/unit/test_*.c
# needs no line here); the test tools and the fuzzers link what each uses,
# LINK, set by $(call links,TARGETS,LIBRARIES) below (none: libc and PKGS).
define links
$(1): $(2)
$(1): LINK := $(2)
endef

$(BUILD)/tests/%: tests/unit/%.c $(LINK_LIBS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  TEST    $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(CMOCKA_CFLAGS) $(ALL_LDFLAGS) -o $@ $< \
		$(LINK_LIBS) $(LIBS) $(CMOCKA_LIBS)

$(BUILD)/tests/tools/%: tests/tools/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  TOOL    $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LINK) $(LIBS)
tool = $(patsubst %,$(BUILD)/tests/tools/%,$(1))
$(eval $(call links,$(call tool,envelope-tool),$(LINK_KEYDIST)))
$(eval $(call links,$(call tool,hostile load),$(LINK_CLIENT)))
$(eval $(call links,$(call tool,load-setup),$(LINK_SERVER)))

# libFuzzer harnesses (tests/fuzz/), always built with VARIANT=fuzz:
# build/fuzz/fuzz/fuzz_<name>, and gen-corpus, which writes their seeds.
FUZZ_SRC     := $(wildcard tests/fuzz/fuzz_*.c)
FUZZERS      := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))
FUZZ_UTIL    := $(call obj,tests/fuzz/util.c tests/fuzz/keys.c)
FUZZ_GEN     := $(BUILD)/fuzz/gen-corpus
# Keep the harnesses' objects (make would delete them as intermediate).
.SECONDARY: $(call obj,$(FUZZ_SRC) tests/fuzz/gen-corpus.c)

.PHONY: fuzzers fuzz
ifeq ($(VARIANT),fuzz)
fuzzers: $(FUZZERS) $(FUZZ_GEN)
else
fuzzers:
	$(Q)$(MAKE) --no-print-directory VARIANT=fuzz fuzzers
endif

$(BUILD)/fuzz/fuzz_%: $(BUILD)/obj/tests/fuzz/fuzz_%.o $(FUZZ_UTIL)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -fsanitize=fuzzer -o $@ $< \
		$(FUZZ_UTIL) $(LINK) $(LIBS)
fuzzer = $(patsubst %,$(BUILD)/fuzz/fuzz_%,$(1))
$(eval $(call links,$(call fuzzer,b64 frame),$(LINK_COMMON)))
$(eval $(call links,$(call fuzzer,handshake record) $(FUZZ_GEN),$(LINK_KEYDIST)))
$(eval $(call links,$(call fuzzer,client_frames e2e_line history peer_state),$(LINK_CLIENT)))
$(eval $(call links,$(call fuzzer,server_frames),$(LINK_SERVER)))
$(eval $(call links,$(call fuzzer,config),$(LINK_LIBS)))

$(FUZZ_GEN): $(BUILD)/obj/tests/fuzz/gen-corpus.o $(FUZZ_UTIL)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(FUZZ_UTIL) \
		$(LINK) $(LIBS)

# Fuzz each harness for FUZZ_TIME seconds (FUZZERS_RUN: some of them);
# working corpora and crashes go to var/fuzz/, totals: tests/fuzz/run.sh total.
FUZZ_TIME ?= 60
FUZZERS_RUN ?=
fuzz:
	$(Q)$(MAKE) --no-print-directory VARIANT=fuzz fuzzers
	$(Q)MISSIVE_FUZZ=$(CURDIR)/build/fuzz/fuzz tests/fuzz/run.sh run \
		-t $(FUZZ_TIME) $(FUZZERS_RUN)
# Static analysis: every C file of the tree (a glob: new files, tests/fuzz/
# included, are picked up), with the real build's flags written to a
# compilation database.  Not OPTFLAGS: _FORTIFY_SOURCE wants -O, and
# sanitizers change nothing the analysers read.  cppcheck gets only our -I
# and -D; it knows libc and OpenSSL from its own library files.
LINT_SRC := $(sort $(wildcard common/*.c keydist/*.c server/*.c client/*.c \
	tools/*.c tests/unit/*.c tests/tools/*.c tests/fuzz/*.c gtk/*.c bench/*.c))
LINT_DB := build/lint/compile_commands.json
LINT_CFLAGS = $(BASEFLAGS) $(PKG_CFLAGS) $(CMOCKA_CFLAGS) $(GTK_CFLAGS)
LINT_CPPCHECK_FLAGS = $(filter -I. -D%,$(BASEFLAGS))

lint:
	$(Q)scripts/compile-db.sh $(LINT_DB) $(CC) $(LINT_CFLAGS) -- $(LINT_SRC)
	$(Q)scripts/lint.sh $(LINT_DB) $(LINT_CPPCHECK_FLAGS)

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/demo.sh

# Every test, built with sanitizers.  tests/run.sh prints each test file's
# wall time, then "N passed, N failed" last, and exits non-zero if anything
# failed or nothing ran.  The fuzzers run for MISSIVE_FUZZ_SMOKE seconds
# each (11-fuzz-smoke.sh).  Runs go side by side: the state is in
# MISSIVE_TEST_VAR (default var/test, one run at a time there) and the
# ports are a free block picked per run unless MISSIVE_TEST_PORT_BASE
# gives one (tests/run.sh's header).
check: deps
	$(Q)$(MAKE) --no-print-directory VARIANT=san tests
	$(Q)$(MAKE) --no-print-directory VARIANT=fuzz fuzzers
	$(Q)MISSIVE_BIN=$(CURDIR)/build/san/bin MISSIVE_UNIT=$(CURDIR)/build/san/tests \
		MISSIVE_TOOLS=$(CURDIR)/build/san/tests/tools \
		MISSIVE_FUZZ=$(CURDIR)/build/fuzz/fuzz \
		tests/run.sh

# The kill loop of tests/integration/21-crash.sh, long: SOAK_KILLS server
# kills (make check runs 60), counted like there (its header: SEED,
# RECEIVER_KILLS, DB_KILL).
SOAK_KILLS ?= 500
.PHONY: soak
soak: deps
	$(Q)$(MAKE) --no-print-directory VARIANT=san tests
	$(Q)KILLS=$(SOAK_KILLS) MISSIVE_BIN=$(CURDIR)/build/san/bin \
		MISSIVE_UNIT=$(CURDIR)/build/san/tests \
		MISSIVE_TOOLS=$(CURDIR)/build/san/tests/tools \
		MISSIVE_TEST_FILTER=21-crash MISSIVE_TEST_TIMEOUT=0 tests/run.sh

# Every test again, each program under valgrind memcheck (tests/valgrind/
# run.sh): one more counted TAP line per test file for its processes' logs.
check-valgrind: deps
	$(Q)$(MAKE) --no-print-directory VARIANT=debug tests
	$(Q)tests/valgrind/run.sh $(CURDIR)/build/debug

# Two clones of HEAD in var/sbs/ run `make check` at the same time; both
# must pass (each one's summary line and the wall time are printed).
check-side-by-side:
	$(Q)tests/side-by-side.sh

install: all
	install -d $(DESTDIR)$(BINDIR_INST) $(DESTDIR)$(SYSCONFDIR) \
		$(DESTDIR)$(PREFIX)/share/missive/sql/migrations
	install -m 0755 $(PROGRAMS) $(DESTDIR)$(BINDIR_INST)/
	install -m 0644 conf/server.conf conf/client.conf $(DESTDIR)$(SYSCONFDIR)/
	install -m 0644 sql/*.sql $(DESTDIR)$(PREFIX)/share/missive/sql/
	install -m 0644 sql/migrations/*.sql $(DESTDIR)$(PREFIX)/share/missive/sql/migrations/

clean:
	rm -rf build bin

# ---- Benchmarks (bench/README.md): `make bench` builds the release
# programs, bin/missive-bench, bin/bench-relay and load-setup, then runs
# bench/run.sh, which writes bench/RESULTS.md.
BENCH_SRC := $(filter-out bench/relay.c,$(wildcard bench/*.c))
.PHONY: bench bench-programs
bench-programs: $(OUTBIN)/missive-bench $(OUTBIN)/bench-relay \
	$(BUILD)/tests/tools/load-setup $(PROGRAMS)
$(eval $(call program,missive-bench,$(BENCH_SRC),$(LINK_KEYDIST)))
$(eval $(call program,bench-relay,bench/relay.c,$(LINK_COMMON)))
tests: $(OUTBIN)/missive-bench $(OUTBIN)/bench-relay
bench:
	$(Q)$(MAKE) --no-print-directory VARIANT=release bench-programs
	$(Q)bench/suite.sh

-include $(shell find build -name '*.d' 2>/dev/null)
