# tthc top-level build.
#
#   make            module + workers
#   make module     nginx dynamic module -> build/ngx_tthc_module.so
#   make workers    workers/build/tthc-worker, workers/build/tthcctl
#   make unit       cmocka unit tests of common/
#   make clean
#
# ASAN=1 builds everything with -fsanitize=address,undefined into build/asan/
# (module) and workers/build-asan/ (workers).

SHELL := /bin/bash
ASAN ?= 0
NGINX_SRC ?= /usr/share/nginx/src

SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer
ifeq ($(ASAN),1)
BUILD    := build/asan
CC_EXTRA := $(SAN_FLAGS)
LD_EXTRA := $(SAN_FLAGS)
else
BUILD    := build
CC_EXTRA :=
LD_EXTRA :=
endif

NGX_DIR := $(BUILD)/nginx-src
STAMP   := $(BUILD)/.configured
MODULE  := $(BUILD)/ngx_tthc_module.so

.PHONY: all module module-check workers unit clean FORCE

all: module workers

module: $(MODULE)

# nginx-src is a private copy of Debian's nginx-dev tree (created once).
$(NGX_DIR)/configure:
	@mkdir -p $(BUILD)
	rm -rf $(NGX_DIR).tmp
	cp -a $(NGINX_SRC) $(NGX_DIR).tmp
	mv $(NGX_DIR).tmp $(NGX_DIR)

# Re-run configure only when the addon script `config` changed (or on first build).
$(STAMP): config $(NGX_DIR)/configure
	cd $(NGX_DIR) && . ./conf_flags && \
	  ./configure --with-cc-opt='-fPIC $(CC_EXTRA)' --with-ld-opt='-fPIC $(LD_EXTRA)' \
	    "$${NGX_CONF_FLAGS[@]}" --add-dynamic-module=$(CURDIR) > configure.log 2>&1 \
	  || { tail -n 40 configure.log; exit 1; }
	touch $@

# Always ask nginx's own Makefile: it rebuilds changed sources.
$(MODULE): $(STAMP) FORCE
	$(MAKE) -C $(NGX_DIR) -f objs/Makefile modules
	cp $(NGX_DIR)/objs/ngx_tthc_module.so $@.tmp
	mv $@.tmp $@

# nginx -t with the module loaded (binary compatibility, directives parse).
module-check: $(MODULE)
	@mkdir -p $(BUILD)/check/logs
	@printf '%s\n' 'load_module $(CURDIR)/$(MODULE);' 'pid $(CURDIR)/$(BUILD)/check/nginx.pid;' \
	  'thread_pool tthc threads=1;' 'events {}' \
	  'http { client_body_temp_path $(CURDIR)/$(BUILD)/check/body;' \
	  '  tthc_redis unix:$(CURDIR)/$(BUILD)/check/redis.sock; tthc_store $(CURDIR)/$(BUILD)/check/store;' \
	  '  tthc_thread_pool tthc;' \
	  '  server { listen 127.0.0.1:1; location /api/ { tthc_api; } } }' > $(BUILD)/check/nginx.conf
	$(if $(filter 1,$(ASAN)),LD_PRELOAD=$$(gcc -print-file-name=libasan.so) ASAN_OPTIONS=detect_leaks=0) \
	  nginx -t -q -p $(CURDIR)/$(BUILD)/check/ -c $(CURDIR)/$(BUILD)/check/nginx.conf -e $(CURDIR)/$(BUILD)/check/logs/error.log
	@echo "module-check: $(MODULE) loads"

workers:
	$(MAKE) -C workers ASAN=$(ASAN)

unit:
	$(MAKE) -C t/unit check ASAN=$(ASAN)

clean:
	rm -rf build
	-[ -f workers/Makefile ] && $(MAKE) -C workers clean
	-[ -f t/unit/Makefile ] && $(MAKE) -C t/unit clean

FORCE:
