#!/bin/sh
# Official SDKs against the mock providers and against the gateway:
# t/50-sdk.t starts the mock and nginx with the built module, installs
# t/sdk/node_modules with "npm ci" when missing, and runs node --test.
#   NGINX_BIN, LLM_MODULE: as for the integration tests (t/lib/LlmTest.pm)
set -e
cd "$(dirname "$0")/.."
: "${NGINX_BIN:=$(command -v nginx 2>/dev/null || echo /usr/sbin/nginx)}"
: "${LLM_MODULE:=$(pwd)/objs/ngx_http_llm_module.so}"
export NGINX_BIN LLM_MODULE
exec prove -v -I t/lib t/50-sdk.t
