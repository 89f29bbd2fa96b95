# ngx_llm: build, run and test targets.  See README.md.

NGINX_SRC   ?= /usr/share/nginx/src
NGINX_BIN   ?= $(shell command -v nginx 2>/dev/null || echo /usr/sbin/nginx)
PORT        ?= 4000
CC          ?= cc
CFLAGS      ?= -g -O2
WARN        := -Wall -Wextra -Wno-unused-parameter
BUILD       := build
MODULE      := objs/ngx_http_llm_module.so

ADAPTER_SRCS := $(sort $(wildcard adapters/*.c))
ADAPTER_OBJS := $(ADAPTER_SRCS:adapters/%.c=$(BUILD)/adapters/%.o)
ADAPTER_LIBS := -lcjson -lyaml -lcrypto -lm
TEST_SRCS    := $(sort $(wildcard tests/test_*.c))
TEST_BINS    := $(TEST_SRCS:tests/%.c=$(BUILD)/tests/%)
MODULE_SRCS  := $(wildcard ngx_llm_module/*.c ngx_llm_module/*.h) \
                $(wildcard adapters/*.c adapters/*.h) config

.PHONY: all module deps run test unit integration sdk bench fuzz clean

# the adapter objects are kept between runs (make would delete them as
# intermediate files of the test binaries)
.SECONDARY:

all: module

module: $(MODULE)

# The module is configured in a private copy of the nginx tree, so the
# system's /usr/share/nginx/src stays untouched.
$(MODULE): $(MODULE_SRCS)
	@sh tools/check-deps.sh build || { echo "run: make deps" >&2; exit 1; }
	@bash tools/build-module.sh "$(NGINX_SRC)" "$(BUILD)/nginx" "$(CURDIR)"
	@mkdir -p objs
	cp $(BUILD)/nginx/objs/ngx_http_llm_module.so $(MODULE).tmp && mv -f $(MODULE).tmp $(MODULE)

deps:
	@sh tools/deps.sh

run:
	@sh tools/check-deps.sh run || sh tools/deps.sh
	@$(MAKE) --no-print-directory module
	@PORT=$(PORT) NGINX_BIN=$(NGINX_BIN) sh tools/run.sh

test:
	@sh tools/check-deps.sh test || sh tools/deps.sh
	@$(MAKE) --no-print-directory module
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory integration

$(BUILD)/adapters/%.o: adapters/%.c $(wildcard adapters/*.h)
	@mkdir -p $(dir $@)
	@echo "  CC    $<"
	@$(CC) $(CFLAGS) $(WARN) -fPIC -c $< -o $@

$(BUILD)/tests/%: tests/%.c $(ADAPTER_OBJS) $(wildcard tests/*.h)
	@mkdir -p $(dir $@)
	@echo "  LINK  $@"
	@$(CC) $(CFLAGS) $(WARN) -Iadapters -Itests $< $(ADAPTER_OBJS) \
		$(ADAPTER_LIBS) -lcmocka -o $@

unit: $(TEST_BINS)
	@sh tools/run-unit.sh $(TEST_BINS)

integration: $(MODULE)
	NGINX_BIN=$(NGINX_BIN) LLM_MODULE=$(CURDIR)/$(MODULE) prove -r -I t/lib t/

# only the SDK tests (they also run in "make integration")
sdk: $(MODULE)
	@sh tools/sdk-test.sh

bench: $(MODULE)
	@sh bench/run.sh

# each libFuzzer target for FUZZ_TIME seconds (ASan + UBSan)
FUZZ_TIME ?= 60
FUZZ_SRCS := $(sort $(wildcard fuzz/fuzz_*.c))

fuzz:
	@sh tools/fuzz.sh $(FUZZ_TIME) $(FUZZ_SRCS)

clean:
	rm -rf $(BUILD) objs
