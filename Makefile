# lnetstat — build, test and benchmark.
#   make                      build lnetstat/core.so for Lua 5.4 into build/5.4/
#   make testhooks            the test-only lnetstat/testhooks.so (never installed)
#   make check-units          every C file compiles on its own, warnings are errors
#   make LUA_VERSION=5.1|5.3|luajit   (installs that Lua's Debian packages when
#                             root, or names the missing ones and stops)
#   make install [PREFIX=/usr/local] [DESTDIR=] [LUA_VERSION=5.4]
#                             modules, the command (run by that Lua, with the
#                             install directories on its paths) and man page
#   make uninstall            the same variables: removes what install wrote
#   make matrix               build and load for 5.1, 5.3, 5.4 and LuaJIT
#   make test-matrix          the whole suite under 5.1, 5.3 and LuaJIT too
#   make test                 install missing Debian packages, build, run the specs
#   make demo                 a first look at this host's network, in one screen
#   make bench                benchmarks against ss and netstat
#   make docs                 the API reference (LDoc, config.ld) into build/docs/

LUA_VERSION ?= 5.4
ifeq ($(LUA_VERSION),luajit)
LUA_PC ?= luajit
LUA ?= luajit
else
LUA_PC ?= lua$(LUA_VERSION)
LUA ?= lua$(LUA_VERSION)
endif

# LuaRocks passes LUA_INCDIR; otherwise ask pkg-config (never for --libs:
# a Lua module must not link liblua).
ifdef LUA_INCDIR
LUA_CFLAGS ?= -I$(LUA_INCDIR)
else
LUA_CFLAGS ?= $(shell pkg-config --cflags $(LUA_PC) 2>/dev/null)
endif
MNL_CFLAGS ?= $(shell pkg-config --cflags libmnl 2>/dev/null)
MNL_LIBS ?= $(shell pkg-config --libs libmnl 2>/dev/null || echo -lmnl) -pthread

CC ?= cc
CFLAGS ?= -O2 -g
WARN = -Wall -Wextra -pedantic -Wshadow -Wmissing-prototypes -Wstrict-prototypes \
       -Werror=implicit-function-declaration
ALL_CFLAGS = -std=gnu99 -fPIC -fvisibility=hidden $(WARN) -Icsrc $(LUA_CFLAGS) $(MNL_CFLAGS) $(CFLAGS)
LIBFLAG ?= -shared

# Each C file is its own object (per interpreter: the Lua headers differ),
# with its header dependencies in a .d file next to it.
BUILD = build/$(LUA_VERSION)
OBJDIR = $(BUILD)/obj
SO = $(BUILD)/lnetstat/core.so
HOOKS_SO = $(BUILD)/lnetstat/testhooks.so
CSRC = $(sort $(wildcard csrc/*.c csrc/*/*.c))
# lnetstat.core: every unit but the test hooks' registration table.
CORE_SRC = $(filter-out csrc/testhooks.c,$(CSRC))
CORE_OBJ = $(CORE_SRC:csrc/%.c=$(OBJDIR)/%.o)
# lnetstat.testhooks: the same units, with testhooks.c instead of core.c.
HOOKS_OBJ = $(filter-out $(OBJDIR)/core.o,$(CORE_OBJ)) $(OBJDIR)/testhooks.o

PREFIX ?= /usr/local
LUA_ABI = $(if $(filter luajit,$(LUA_VERSION)),5.1,$(LUA_VERSION))
INST_LIBDIR ?= $(PREFIX)/lib/lua/$(LUA_ABI)
INST_LUADIR ?= $(PREFIX)/share/lua/$(LUA_ABI)
INST_BINDIR ?= $(PREFIX)/bin
INST_MANDIR ?= $(PREFIX)/share/man/man1
# The installed command's first line: the interpreter the module is built for.
LUA_INTERP ?= $(or $(shell command -v $(LUA) 2>/dev/null),/usr/bin/env $(LUA))

# LNETSTAT_SPEC_RUN marks every process a run of the suite starts: a spec
# file that leaves one running fails the run (spec/suite_guard.lua).
BUSTED = LNETSTAT_SPEC_RUN=$$$$ $(LUA) /usr/bin/busted

# A failed link must not leave a broken core.so that looks up to date.
.DELETE_ON_ERROR:

.PHONY: all testhooks check-units deps deps-build test check demo matrix test-matrix bench lint docs \
	install uninstall clean

all: $(SO)

testhooks: $(HOOKS_SO)

# The interpreter and headers for LUA_VERSION, before anything compiles.
deps-build:
	@build-aux/deps.sh build $(LUA_VERSION)

$(OBJDIR)/%.o: csrc/%.c | deps-build
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(SO): $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LIBFLAG) -o $@ $(CORE_OBJ) $(MNL_LIBS) $(LDFLAGS)

$(HOOKS_SO): $(HOOKS_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LIBFLAG) -o $@ $(HOOKS_OBJ) $(MNL_LIBS) $(LDFLAGS)

-include $(CORE_OBJ:.o=.d) $(OBJDIR)/testhooks.d

# Every C file compiles alone (no unit relies on another being included
# first), with the project's warnings as errors.
check-units:
	@for f in $(CSRC); do \
		$(CC) -std=gnu99 -fsyntax-only -Werror $(WARN) -Icsrc $(LUA_CFLAGS) $(MNL_CFLAGS) $$f || exit 1; \
	done
	@echo "$(words $(CSRC)) C files compile on their own"

deps:
	@build-aux/deps.sh test

test: deps
	$(MAKE) all testhooks
	$(BUSTED) spec

check: test

demo:
	@$(MAKE) -s all
	@LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH='$(BUILD)/?.so;;' $(LUA) examples/demo.lua

matrix:
	@build-aux/deps.sh matrix
	@for v in 5.1 5.3 5.4 luajit; do \
		$(MAKE) -s LUA_VERSION=$$v all testhooks || exit 1; \
		if [ $$v = luajit ]; then lua=luajit; else lua=lua$$v; fi; \
		$$lua build-aux/load-check.lua build/$$v || exit 1; \
	done

# The whole suite under every other interpreter (make test covers 5.4).
test-matrix: matrix
	@for v in 5.1 5.3 luajit; do \
		if [ $$v = luajit ]; then lua=luajit; else lua=lua$$v; fi; \
		echo "== busted under $$lua"; \
		LNETSTAT_SPEC_RUN=$$$$ $$lua /usr/bin/busted --cpath="build/$$v/?.so" spec || exit 1; \
	done

bench:
	@build-aux/deps.sh bench
	@$(MAKE) -s all
	bench/run.sh

# The API reference, from the sources' LDoc comments (config.ld); a fresh
# directory each time, so that no page of a removed module stays.
docs:
	@build-aux/deps.sh docs
	rm -rf build/docs
	ldoc .

lint:
	@build-aux/deps.sh lint
	luacheck lua spec bin examples bench build-aux
	shellcheck -x bench/*.sh build-aux/*.sh .ci/run

# Every directory is quoted for the shell (a PREFIX may hold spaces); a
# single quote in one is refused rather than half-installed.
INST_DIRS = $(DESTDIR)$(INST_LIBDIR) $(DESTDIR)$(INST_LUADIR) $(DESTDIR)$(INST_BINDIR) $(DESTDIR)$(INST_MANDIR)
check-inst-dirs = $(if $(findstring ',$(INST_DIRS)),$(error install directories must not contain a single quote: $(INST_DIRS)))

install: $(SO)
	$(check-inst-dirs)
	install -d '$(DESTDIR)$(INST_LIBDIR)/lnetstat' '$(DESTDIR)$(INST_BINDIR)' '$(DESTDIR)$(INST_MANDIR)'
	install -m 0755 $(SO) '$(DESTDIR)$(INST_LIBDIR)/lnetstat/core.so'
	cd lua && find lnetstat -name '*.lua' -exec install -D -m 0644 {} '$(DESTDIR)$(INST_LUADIR)'/{} \;
	build-aux/launcher.sh '$(LUA)' '$(LUA_INTERP)' '$(INST_LUADIR)' '$(INST_LIBDIR)' \
		< bin/lnetstat > $(BUILD)/lnetstat.installed
	install -m 0755 $(BUILD)/lnetstat.installed '$(DESTDIR)$(INST_BINDIR)/lnetstat'
	install -m 0644 man/lnetstat.1 '$(DESTDIR)$(INST_MANDIR)/lnetstat.1'

# Removes the files install wrote and the lnetstat/ directories under the
# Lua directories once empty; the shared directories (bin, man1, lib/lua/V,
# share/lua/V) stay, as automake's uninstall leaves them: they may have
# been there before and hold other packages' files.
uninstall:
	$(check-inst-dirs)
	rm -f '$(DESTDIR)$(INST_LIBDIR)/lnetstat/core.so' '$(DESTDIR)$(INST_BINDIR)/lnetstat' \
		'$(DESTDIR)$(INST_MANDIR)/lnetstat.1'
	cd lua && find lnetstat -name '*.lua' -exec rm -f '$(DESTDIR)$(INST_LUADIR)'/{} \;
	for d in '$(DESTDIR)$(INST_LUADIR)/lnetstat' '$(DESTDIR)$(INST_LIBDIR)/lnetstat'; do \
		if [ -d "$$d" ]; then find "$$d" -depth -type d -empty -delete; fi; \
	done

clean:
	rm -rf build

# --- Fuzzing -------------------------------------------------------------
#   make fuzz [FUZZ_SECONDS=N]   build the libFuzzer targets (clang, ASan,
#                                UBSan) and run each for N seconds (10)
#   make fuzz-build              only build them, into build/fuzz/
# A target (fuzz/harness.c, chosen by FUZZ_TARGET) feeds its input through
# the lnetstat.testhooks functions; its seeds are fuzz/corpus/<target>/,
# what it finds goes to build/fuzz/corpus/<target>/ and a crashing input to
# build/fuzz/crash-<target>-*. fuzz/README.md says more.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 10
FUZZ_DIR = build/fuzz
FUZZ_TARGETS = proc_sockets proc_stats proc_net diag_inet diag_local \
	rtnl_link rtnl_route rtnl_addr_neigh
FUZZ_SAN = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS = -std=gnu99 -g -O1 -Icsrc $(shell pkg-config --cflags lua5.4) $(MNL_CFLAGS) $(FUZZ_SAN)
FUZZ_SRC = $(filter-out csrc/core.c,$(CSRC))
FUZZ_OBJ = $(FUZZ_SRC:csrc/%.c=$(FUZZ_DIR)/obj/%.o)
FUZZ_BINS = $(FUZZ_TARGETS:%=$(FUZZ_DIR)/%)

.PHONY: fuzz fuzz-build check-memory

$(FUZZ_DIR)/obj/%.o: csrc/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

$(FUZZ_BINS): $(FUZZ_DIR)/%: fuzz/harness.c $(FUZZ_OBJ)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -DFUZZ_TARGET='"$*"' -o $@ \
		fuzz/harness.c $(FUZZ_OBJ) -llua5.4 $(MNL_LIBS)

-include $(FUZZ_OBJ:.o=.d)

fuzz-build:
	@build-aux/deps.sh fuzz
	@$(MAKE) -s $(FUZZ_BINS)

fuzz: fuzz-build
	@fail=0; for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ_DIR)/corpus/$$t; \
		$(FUZZ_DIR)/$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=1024 \
			-artifact_prefix=$(FUZZ_DIR)/crash-$$t- \
			$(FUZZ_DIR)/corpus/$$t fuzz/corpus/$$t >$(FUZZ_DIR)/$$t.log 2>&1; \
		rc=$$?; \
		done_line=$$(grep -E '^Done [0-9]+ runs' $(FUZZ_DIR)/$$t.log); \
		if [ $$rc -ne 0 ] || [ -z "$$done_line" ]; then \
			echo "fuzz $$t: FAILED (exit $$rc)"; tail -n 40 $(FUZZ_DIR)/$$t.log; fail=1; \
		else \
			echo "fuzz $$t: $$done_line"; \
		fi; \
	done; exit $$fail

# --- Memory checks ---------------------------------------------------------
#   make check-memory   the whole suite (Lua 5.4) with lnetstat.core and
#                       lnetstat.testhooks built with ASan and UBSan (any
#                       report aborts: -fno-sanitize-recover=all) into
#                       build/asan/, then the netstat views of the CLI under
#                       valgrind, where any definite leak fails.
# busted runs in build/asan/lua, a plain interpreter (build-aux/asan-lua.c)
# linked with the sanitizers, and so do the `lua5.4` children the specs
# start (build/asan/bin/lua5.4 comes first in PATH): their package.cpath is
# build/asan/ too. Under an address-space limit (ulimit -v), where ASan
# cannot start (the check files' child processes), that lua5.4 is the
# system one. Other processes (ip, python)
# are not instrumented.
# LeakSanitizer is off (detect_leaks=0): busted exits without closing its
# state; leaks of the C module are valgrind's part.
# Spec files left out of the ASan run (ASAN_SKIP_SPECS), by name:
#   check: its live audit examples run check files in child interpreters
#   under an address-space limit with the caller's package.cpath, and no
#   ASan-built module loads there; make test runs it.
#   rockspec: luarocks finds the lua5.4 of build/asan/bin first and looks
#   for Lua's headers next to it; it builds its own module anyway.
#   soak: it measures the VmRSS of a child interpreter, which ASan's shadow
#   memory and quarantine would dominate; make test runs it.
#   build, install: they run make and luarocks for an interpreter, which
#   finds build/asan/bin's lua5.4 and no Lua headers beside it; they build
#   their own modules anyway; make test runs them.
#   hardening: it starts interpreters with LD_PRELOAD shims (a failing setns,
#   predictable temporary names), and ASan must be the first library loaded;
#   make test runs it.
#   procroutes_netstat: the same, a shim that refuses rtnetlink.
#   counters_netstat: it runs the command under a /proc of fabricated
#   files, and ASan reads its own /proc/self/maps at start-up.
#   thread_races: it runs its children under valgrind, which cannot run
#   ASan-built code; make test runs it.
ASAN_DIR = build/asan
ASAN_SAN = -fsanitize=address,undefined -fno-sanitize-recover=all
ASAN_CFLAGS = -O1 -g -fno-omit-frame-pointer $(ASAN_SAN)
ASAN_SKIP_SPECS = check rockspec soak build install hardening procroutes_netstat counters_netstat \
	thread_races
ASAN_SPECS = $(filter-out $(ASAN_SKIP_SPECS:%=spec/%_spec.lua),$(wildcard spec/*_spec.lua))
VALGRIND = valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
	--show-leak-kinds=definite
VALGRIND_VIEWS = -tuanp -r -i -s -g -x

$(ASAN_DIR)/lua: build-aux/asan-lua.c
	@mkdir -p $(dir $@)
	gcc -std=gnu99 $(ASAN_CFLAGS) $(shell pkg-config --cflags lua5.4) -o $@ $< -llua5.4

$(ASAN_DIR)/bin/lua5.4: $(ASAN_DIR)/lua
	@mkdir -p $(dir $@)
	@printf '%s\n' '#!/bin/sh' \
		'[ "$$(ulimit -v)" = unlimited ] && exec $(CURDIR)/$(ASAN_DIR)/lua "$$@"' \
		'exec /usr/bin/lua5.4 "$$@"' >$@
	@chmod +x $@

check-memory:
	@build-aux/deps.sh memory
	@$(MAKE) -s all testhooks
	@$(MAKE) -s CC=gcc BUILD=$(ASAN_DIR) CFLAGS='$(ASAN_CFLAGS)' \
		LDFLAGS='$(ASAN_SAN)' all testhooks $(ASAN_DIR)/bin/lua5.4
	PATH="$(CURDIR)/$(ASAN_DIR)/bin:$$PATH" ASAN_LUA_ARGV0=lua5.4 \
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 LNETSTAT_SPEC_RUN=$$$$ \
		$(ASAN_DIR)/lua /usr/bin/busted --cpath='$(ASAN_DIR)/?.so' $(ASAN_SPECS)
	@for v in $(VALGRIND_VIEWS); do \
		echo "== valgrind bin/lnetstat $$v"; \
		$(VALGRIND) lua5.4 bin/lnetstat $$v >/dev/null || exit 1; \
	done

# The OpenResty and HAProxy examples, each started from the checkout on
# 127.0.0.1 with the rock installed under build/example (Ctrl-C stops it).
.PHONY: example-openresty example-haproxy
example-openresty:
	@build-aux/deps.sh test
	@examples/run-example.sh openresty

example-haproxy:
	@build-aux/deps.sh test
	@examples/run-example.sh haproxy
