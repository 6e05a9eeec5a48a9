# SPDX-License-Identifier: Apache-2.0
# scimd - one non-recursive Makefile.
#
#   make run      install what is missing, build, start scimd with a demo tenant
#   make install  build the release binary and install it, scimd(8), the systemd unit
#                 and /etc/scimd/scimd.conf (PREFIX=/usr/local, DESTDIR, SYSCONFDIR=/etc)
#   make test     install what tests need, build, run unit (ASan+UBSan), black-box, browser and
#                 ThreadSanitizer tests
#   make fuzz     run every libFuzzer target for FUZZ_SECONDS (default 60)
#   make format   clang-format the tree; make format-check to verify
#
# Build modes: MODE=release (default, -O2), MODE=asan (ASan + UBSan) or MODE=tsan (ThreadSanitizer).

MODE ?= release
BUILD := build/$(MODE)
CC ?= cc
PKGS := libmicrohttpd jansson sqlite3 libpq libcrypto libcurl libutf8proc libsodium

# Debian packages: what building, testing and fuzzing need.
DEB_BUILD := build-essential pkg-config libmicrohttpd-dev libjansson-dev libsqlite3-dev \
             libssl-dev libcurl4-openssl-dev libpq-dev libutf8proc-dev libsodium-dev
DEB_TEST := libcriterion-dev nodejs clang clang-format libclang-rt-14-dev postgresql openssl man-db groff-base \
            sqlite3 chromium
DEB_FUZZ := clang libclang-rt-14-dev

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla -Wformat=2 \
        -Wno-format-nonliteral -Wno-format-truncation
ifneq ($(CI),)
WARN += -Werror
endif
CFLAGS_release := -O2 -g
CFLAGS_asan := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDFLAGS_asan := -fsanitize=address,undefined
CFLAGS_tsan := -O1 -g -fno-omit-frame-pointer -fsanitize=thread
LDFLAGS_tsan := -fsanitize=thread

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS_$(MODE)) -Isrc -I$(BUILD)/gen $(PKG_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(LDFLAGS_$(MODE)) $(LDFLAGS)
LIBS = $(PKG_LIBS) -lpthread

LIB_SRC := $(filter-out src/main.c,$(wildcard src/*/*.c))
LIB_OBJ := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(LIB_SRC))
MIGRATIONS_sqlite := $(sort $(wildcard src/store/migrations/sqlite/*.sql))
MIGRATIONS_postgres := $(sort $(wildcard src/store/migrations/postgres/*.sql))
CONSOLE_ASSETS := $(sort $(wildcard src/admin/web/*))
GEN := $(BUILD)/gen/migrations_sqlite.h $(BUILD)/gen/migrations_postgres.h $(BUILD)/gen/admin_openapi.h \
       $(BUILD)/gen/admin_console.h
UNIT_SRC := $(wildcard tests/unit/*/*_test.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))

.PHONY: all deps test-deps test-npm run install install-files test unit e2e e2e-pg ui tsan fuzz fuzz-build \
        license-check \
        format format-check clean
.DEFAULT_GOAL := all
.SECONDEXPANSION:

all: $(BUILD)/scimd

# --- dependencies -------------------------------------------------------------
# Installs only what is missing; needs root (as on the project's machines).
define apt_install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then echo "need root to install:$$missing" >&2; exit 1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
endef

deps:
	$(call apt_install,$(DEB_BUILD))

test-deps: deps
	$(call apt_install,$(DEB_TEST))

# The downstream SCIM fixture's npm packages, exactly as its package-lock.json pins
# them; npm ci runs again only when the lock file changes.
DOWNSTREAM := tests/fixtures/downstream
$(DOWNSTREAM)/node_modules/.package-lock.json: $(DOWNSTREAM)/package.json $(DOWNSTREAM)/package-lock.json
	cd $(DOWNSTREAM) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The web console's browser tests: playwright-core (pinned to the version whose
# Chromium matches Debian's chromium) and axe-core.
UI_TESTS := tests/ui
$(UI_TESTS)/node_modules/.package-lock.json: $(UI_TESTS)/package.json $(UI_TESTS)/package-lock.json
	cd $(UI_TESTS) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

test-npm: $(DOWNSTREAM)/node_modules/.package-lock.json $(UI_TESTS)/node_modules/.package-lock.json

# --- build ----------------------------------------------------------------------
$(BUILD)/gen/migrations_%.h: $$(MIGRATIONS_%) tools/embed.sh
	@mkdir -p $(@D)
	sh tools/embed.sh $*_migrations $(MIGRATIONS_$*) > $@

$(BUILD)/gen/admin_openapi.h: src/admin/openapi.json tools/embed.sh
	@mkdir -p $(@D)
	sh tools/embed.sh admin_openapi_files $< > $@

# The web console's files (src/admin/web/), served at /admin/.
$(BUILD)/gen/admin_console.h: $(CONSOLE_ASSETS) tools/embed.sh
	@mkdir -p $(@D)
	sh tools/embed.sh admin_console_files $(CONSOLE_ASSETS) > $@

$(BUILD)/obj/%.o: src/%.c | $(GEN)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libscimd.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/scimd: $(BUILD)/obj/main.o $(BUILD)/libscimd.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libscimd.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(BUILD)/libscimd.a -lcriterion $(LIBS)

-include $(LIB_OBJ:.o=.d) $(BUILD)/obj/main.d

# --- run ------------------------------------------------------------------------
SCIMD_DB ?= ./scimd.db
LISTEN ?= 127.0.0.1:8080
run: deps
	@$(MAKE) --no-print-directory MODE=release all
	./build/release/scimd serve --demo --db $(SCIMD_DB) --listen $(LISTEN)

# --- install --------------------------------------------------------------------
# make install: the release binary, the man page generated from it (`scimd help
# --man`, from the command and settings tables), the systemd unit and the example
# config, which is installed only when absent.  install-files installs INSTALL_BIN
# without building (the tests install their own binary into a temporary DESTDIR).
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/scimd
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR ?= /etc
INSTALL_BIN ?= build/release/scimd

install:
	@$(MAKE) --no-print-directory MODE=release all
	@$(MAKE) --no-print-directory install-files INSTALL_BIN=build/release/scimd
	@echo "installed; then: systemctl daemon-reload && systemctl enable --now scimd"

install-files:
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(UNITDIR) \
	  $(DESTDIR)$(SYSCONFDIR)/scimd $(DESTDIR)$(DOCDIR)
	install -m 0755 $(INSTALL_BIN) $(DESTDIR)$(BINDIR)/scimd
	install -m 0644 LICENSE README.md $(DESTDIR)$(DOCDIR)
	$(INSTALL_BIN) help --man > $(DESTDIR)$(MANDIR)/man8/scimd.8.tmp
	mv $(DESTDIR)$(MANDIR)/man8/scimd.8.tmp $(DESTDIR)$(MANDIR)/man8/scimd.8
	chmod 0644 $(DESTDIR)$(MANDIR)/man8/scimd.8
	sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	  contrib/systemd/scimd.service.in > $(DESTDIR)$(UNITDIR)/scimd.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/scimd.service
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/scimd/scimd.conf ]; then \
	  echo "keeping $(DESTDIR)$(SYSCONFDIR)/scimd/scimd.conf"; \
	else \
	  echo "install -m 0644 contrib/scimd.conf $(DESTDIR)$(SYSCONFDIR)/scimd/scimd.conf"; \
	  install -m 0644 contrib/scimd.conf $(DESTDIR)$(SYSCONFDIR)/scimd/scimd.conf; \
	fi

# --- tests ----------------------------------------------------------------------
test: test-deps license-check format-check
	@$(MAKE) --no-print-directory MODE=asan unit
	@$(MAKE) --no-print-directory MODE=asan all
	@$(MAKE) --no-print-directory e2e SCIMD_BIN=$(CURDIR)/build/asan/scimd
	@$(MAKE) --no-print-directory e2e-pg SCIMD_BIN=$(CURDIR)/build/asan/scimd
	@$(MAKE) --no-print-directory ui SCIMD_BIN=$(CURDIR)/build/asan/scimd
	@$(MAKE) --no-print-directory tsan

unit: test-npm $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do \
	  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 $$t --jobs 2 || exit 1; \
	done

SCIMD_BIN ?= $(CURDIR)/build/release/scimd
e2e: test-npm
	SCIMD_BIN=$(SCIMD_BIN) ASAN_OPTIONS=detect_leaks=0 node --test --test-concurrency=2 tests/e2e/

# The suites where scimd's own threads meet (fan-out engine and its per-app
# batches, webhook delivery, the events feed) under ThreadSanitizer, on SQLite;
# the harness fails a test on any sanitizer report in serve's stderr.
TSAN_E2E := tests/e2e/fanout.test.mjs tests/e2e/fanout_groups.test.mjs tests/e2e/fanout_faults.test.mjs \
            tests/e2e/webhooks.test.mjs tests/e2e/events_feed.test.mjs
tsan: test-npm
	@$(MAKE) --no-print-directory MODE=tsan all
	SCIMD_BIN=$(CURDIR)/build/tsan/scimd TSAN_OPTIONS=halt_on_error=0 \
	  node --test --test-concurrency=2 $(TSAN_E2E)

# The web console in Debian's chromium (SQLite); screenshots in build/ui-screenshots/.
ui: test-npm
	SCIMD_BIN=$(SCIMD_BIN) ASAN_OPTIONS=detect_leaks=0 node --test tests/ui/

# The PostgreSQL store's unit tests, then the same black-box suite on PostgreSQL: a
# throwaway cluster (tools/pg-cluster.sh), one fresh database per test file,
# removed afterwards whatever the outcome.
PG_UNIT ?= build/asan/tests/store/postgres_test
e2e-pg: test-npm
	@dir=$$(mktemp -d /tmp/scimd-pg.XXXXXX); \
	url=$$(sh tools/pg-cluster.sh start $$dir fast) || { rm -rf $$dir; exit 1; }; \
	echo "PostgreSQL test cluster: $$url"; \
	SCIMD_TEST_PG=$$url ASAN_OPTIONS=detect_leaks=1 $(PG_UNIT) --jobs 2; rc=$$?; \
	[ $$rc != 0 ] || SCIMD_TEST_PG=$$url SCIMD_BIN=$(SCIMD_BIN) ASAN_OPTIONS=detect_leaks=0 \
	  node --test --test-concurrency=2 tests/e2e/; rc=$$((rc + $$?)); \
	sh tools/pg-cluster.sh stop $$dir; exit $$rc

# --- fuzzing ----------------------------------------------------------------------
FUZZ_SECONDS ?= 60
FUZZ_SRC := $(wildcard fuzz/*_fuzz.c)
FUZZ_BIN := $(patsubst fuzz/%.c,build/fuzz/%,$(FUZZ_SRC))
FUZZ_LIB_SRC := $(filter src/core/% src/scim/% src/http/search_request.c src/http/edge.c \
                         src/http/forwarded.c \
                         src/outbound/scim_wire.c src/store/sqlgen.c \
                         src/events/poll_request.c src/events/webhook_sign.c \
                         src/events/secevent_http.c,$(LIB_SRC))
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -Isrc -I$(BUILD)/gen $(PKG_CFLAGS)

build/fuzz/%: fuzz/%.c $(FUZZ_LIB_SRC) | $(GEN)
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -o $@ $^ $(PKG_LIBS)

# bulk_fuzz runs Bulk requests against a real SQLite store: it also needs the
# directory and store layers, and the embedded migrations.
FUZZ_STORE_SRC := $(filter src/core/% src/scim/% src/directory/% src/store/%,$(LIB_SRC))
build/fuzz/gen/migrations_%.h: $$(MIGRATIONS_%) tools/embed.sh
	@mkdir -p $(@D)
	sh tools/embed.sh $*_migrations $(MIGRATIONS_$*) > $@

# feed_cursor_fuzz: the events feed's cursor and time bounds (src/directory/feed.c).
build/fuzz/bulk_fuzz build/fuzz/feed_cursor_fuzz: build/fuzz/%: fuzz/%.c $(FUZZ_STORE_SRC) \
                      tests/support/scratch_directory.h \
                      build/fuzz/gen/migrations_sqlite.h build/fuzz/gen/migrations_postgres.h
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -Ibuild/fuzz/gen -o $@ $(filter %.c,$^) $(PKG_LIBS) -lpthread

fuzz-build:
	$(call apt_install,$(DEB_BUILD) $(DEB_FUZZ))
	@$(MAKE) --no-print-directory $(FUZZ_BIN)

fuzz: fuzz-build
	@set -e; for f in $(FUZZ_BIN); do \
	  name=$$(basename $$f); mkdir -p build/fuzz/corpus/$$name; \
	  echo "fuzzing $$name for $(FUZZ_SECONDS)s"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 build/fuzz/corpus/$$name fuzz/corpus/$$name; \
	done

# Every source file carries its SPDX licence line (tools/spdx.sh --fix adds it).
license-check:
	@sh tools/spdx.sh

# --- format -----------------------------------------------------------------------
FORMAT_FILES = $(shell git ls-files '*.c' '*.h')
format:
	clang-format -i $(FORMAT_FILES)
format-check:
	clang-format --dry-run -Werror $(FORMAT_FILES)

clean:
	rm -rf build

# --- benchmarks -------------------------------------------------------------------
# make bench: scimd vs nginx on loopback, data sets loaded through the store
# API.  BENCH_SECONDS, BENCH_BIG, BENCH_SYNC and BENCH_CONNS tune the run (see
# bench/run.sh); the table goes to stdout and bench/results.md.
DEB_BENCH := wrk nginx-light nodejs curl postgresql
BENCH_LOAD := build/bench/load

.PHONY: bench
$(BENCH_LOAD): bench/load.c build/release/libscimd.a
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) -O2 -g -Isrc $(PKG_CFLAGS) -o $@ bench/load.c \
	  build/release/libscimd.a $(PKG_LIBS) -lpthread

# make bench-metrics: the per-request metrics call alone, 1 to 32 threads (bench/metrics_bench.c).
BENCH_METRICS := build/bench/metrics_bench
$(BENCH_METRICS): bench/metrics_bench.c build/release/libscimd.a
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) -O2 -g -Isrc $(PKG_CFLAGS) -o $@ bench/metrics_bench.c \
	  build/release/libscimd.a $(PKG_LIBS) -lpthread

.PHONY: bench-metrics
bench-metrics: deps
	@$(MAKE) --no-print-directory MODE=release $(BENCH_METRICS)
	@for t in 1 2 4 32; do $(BENCH_METRICS) $$t 1000000; done

bench: deps
	$(call apt_install,$(DEB_BENCH))
	@$(MAKE) --no-print-directory MODE=release all
	@$(MAKE) --no-print-directory MODE=release $(BENCH_LOAD)
	SCIMD_BIN=build/release/scimd LOAD_BIN=$(BENCH_LOAD) bash bench/run.sh
	SCIMD_BIN=build/release/scimd LOAD_BIN=$(BENCH_LOAD) bash bench/groups.sh
	SCIMD_BIN=build/release/scimd bash bench/bulk.sh
	SCIMD_BIN=build/release/scimd bash bench/webhooks.sh
	SCIMD_BIN=build/release/scimd LOAD_BIN=$(BENCH_LOAD) bash bench/pg.sh
	SCIMD_BIN=build/release/scimd LOAD_BIN=$(BENCH_LOAD) bash bench/fanout.sh
