#!/bin/sh
# Exits 0 when what "make <build|run|test>" needs is installed.
need=$1
ok=0
for h in /usr/include/yaml.h /usr/include/cjson/cJSON.h \
         /usr/include/openssl/evp.h; do
    [ -f "$h" ] || ok=1
done
[ -n "$NGINX_SRC" ] || NGINX_SRC=/usr/share/nginx/src
[ -x "$NGINX_SRC/configure" ] || ok=1
if [ "$need" = run ] || [ "$need" = test ]; then
    command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || ok=1
fi
if [ "$need" = test ]; then
    for c in prove node npm wrk openssl; do
        command -v $c >/dev/null 2>&1 || ok=1
    done
    [ -f /usr/include/cmocka.h ] || ok=1
    perl -MTest::Base -e1 2>/dev/null || ok=1
    perl -MIPC::Run -e1 2>/dev/null || ok=1
fi
exit $ok
