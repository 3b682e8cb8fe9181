# lnetstat — build, test and benchmark.
#   make                      build lnetstat/core.so for Lua 5.4 into build/5.4/
#   make testhooks            the test-only lnetstat/testhooks.so (never installed)
#   make check-units          every C file compiles on its own, warnings are errors
#   make LUA_VERSION=5.1|5.3|luajit
#   make matrix               build and load for 5.1, 5.3, 5.4 and LuaJIT
#   make test-matrix          the whole suite under 5.1, 5.3 and LuaJIT too
#   make test                 install missing Debian packages, build, run the specs
#   make demo                 this host's listening sockets and their owners
#   make bench                benchmarks against ss and netstat

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
WARN = -Wall -Wextra -pedantic -Wshadow -Wmissing-prototypes -Wstrict-prototypes
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

BUSTED = $(LUA) /usr/bin/busted

# A failed link must not leave a broken core.so that looks up to date.
.DELETE_ON_ERROR:

.PHONY: all testhooks check-units deps test check demo matrix test-matrix bench lint install clean

all: $(SO)

testhooks: $(HOOKS_SO)

$(OBJDIR)/%.o: csrc/%.c
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
	@build-aux/deps.sh build
	@$(MAKE) -s all
	@$(LUA) examples/listening.lua

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
		$$lua /usr/bin/busted --cpath="build/$$v/?.so" spec || exit 1; \
	done

bench:
	@build-aux/deps.sh bench
	@$(MAKE) -s all
	bench/run.sh

lint:
	@build-aux/deps.sh lint
	luacheck lua spec bin examples bench
	shellcheck -x bench/*.sh build-aux/*.sh .ci/run

install: $(SO)
	install -d $(DESTDIR)$(INST_LIBDIR)/lnetstat $(DESTDIR)$(INST_BINDIR) $(DESTDIR)$(INST_MANDIR)
	install -m 0755 $(SO) $(DESTDIR)$(INST_LIBDIR)/lnetstat/core.so
	cd lua && find lnetstat -name '*.lua' -exec install -D -m 0644 {} $(DESTDIR)$(INST_LUADIR)/{} \;
	install -m 0755 bin/lnetstat $(DESTDIR)$(INST_BINDIR)/lnetstat
	install -m 0644 man/lnetstat.1 $(DESTDIR)$(INST_MANDIR)/lnetstat.1

clean:
	rm -rf build
