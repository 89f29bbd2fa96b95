#!/bin/sh
# make run: the gateway in the foreground on 127.0.0.1:$PORT, with conf/
# and models.yaml (or models.example.yaml).  Ctrl-C stops it cleanly.
set -e

top=$(pwd)
PORT=${PORT:-4000}
NGINX_BIN=${NGINX_BIN:-/usr/sbin/nginx}
models=$top/models.yaml
[ -f "$models" ] || models=$top/models.example.yaml

dir=$(mktemp -d /tmp/ngx_llm_run.XXXXXX)
mkdir -p "$dir/logs"

sed -e "s|^load_module .*|load_module $top/objs/ngx_http_llm_module.so;|" \
    -e "s|llm_config .*|llm_config  $models;|" \
    -e "s|listen .*|listen  127.0.0.1:$PORT;|" \
    -e "s|^worker_processes .*|worker_processes  auto;\
daemon off;\
pid $dir/nginx.pid;\
error_log stderr notice;|" \
    "$top/conf/nginx.conf" > "$dir/nginx.conf"

sed -i -e "s|^http {|http {\
    access_log off;\
    client_body_temp_path $dir/body;\
    proxy_temp_path $dir/proxy;\
    fastcgi_temp_path $dir/fastcgi;\
    uwsgi_temp_path $dir/uwsgi;\
    scgi_temp_path $dir/scgi;|" "$dir/nginx.conf"

echo "ngx_llm: http://127.0.0.1:$PORT/v1  (models: $models)"
echo "ngx_llm: config $dir/nginx.conf; Ctrl-C stops"

"$NGINX_BIN" -t -q -p "$dir" -c "$dir/nginx.conf"

# nginx in the foreground: INT and TERM make it stop at once, QUIT
# gracefully; the shell waits so that Ctrl-C reaches nginx alone
trap 'kill -QUIT $pid 2>/dev/null; wait $pid; rm -rf "$dir"' INT TERM
"$NGINX_BIN" -p "$dir" -c "$dir/nginx.conf" &
pid=$!
wait $pid || true
rm -rf "$dir"
