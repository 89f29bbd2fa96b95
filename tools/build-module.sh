#!/bin/bash
# Configures nginx (Debian's nginx-dev tree, or NGINX_SRC=) with this
# module in a private build directory, then builds only the module.
#   build-module.sh <nginx-src> <build-dir> <module-dir>
set -e

src=$1
top=$3
mkdir -p "$2"
build=$(cd "$2" && pwd)

if [ ! -x "$src/configure" ]; then
    echo "error: no nginx source tree at $src" >&2
    echo "  Debian: apt-get install nginx-dev (or: make deps)," >&2
    echo "  or point NGINX_SRC= at an nginx source tree" >&2
    exit 1
fi

srcs=$(cd "$top" && ls ngx_llm_module/*.c adapters/*.c | tr '\n' ' ')

if [ ! -f "$build/objs/Makefile" ] \
   || [ "$top/config" -nt "$build/.configured" ] \
   || [ "$top/tools/build-module.sh" -nt "$build/.configured" ] \
   || [ "$(cat "$build/.srcs" 2>/dev/null)" != "$srcs" ] \
   || [ "$(cat "$build/.src" 2>/dev/null)" != "$src $NGINX_CONFIGURE_ARGS" ]
then
    rm -rf "$build"
    mkdir -p "$build"
    cp -a "$src/." "$build/"
    cd "$build"

    # the same flags as the nginx binary, so that the module loads in it;
    # conf_flags leaves out the binary's -O2, and nginx's own default is -O
    if [ -f conf_flags ]; then
        . ./conf_flags
        flags=("${NGX_CONF_FLAGS[@]}" "--with-cc-opt=-g -O2")
    else
        flags=(--with-compat --with-http_ssl_module --with-threads)
    fi

    # shellcheck disable=SC2206
    flags+=($NGINX_CONFIGURE_ARGS)

    echo "configuring nginx in $build"
    if ! ./configure "${flags[@]}" --add-dynamic-module="$top" \
            > configure.log 2>&1
    then
        tail -20 configure.log >&2
        exit 1
    fi

    echo "$srcs" > .srcs
    echo "$src $NGINX_CONFIGURE_ARGS" > .src
    touch .configured
fi

cd "$build"
make -f objs/Makefile modules
