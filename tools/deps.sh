#!/bin/sh
# Installs the Debian 12 packages that building, running and testing need.
PKGS="nginx nginx-dev gcc make libyaml-dev libcjson-dev libssl-dev
      libpcre2-dev zlib1g-dev ca-certificates openssl
      libcmocka-dev clang libclang-rt-14-dev valgrind
      libtest-base-perl libtext-diff-perl libipc-run-perl libwww-perl
      libjson-pp-perl wrk"

# a Node.js that is there already (e.g. a newer one) is kept
command -v node >/dev/null 2>&1 || PKGS="$PKGS nodejs"
command -v npm >/dev/null 2>&1 || PKGS="$PKGS npm"

if [ "$(id -u)" != 0 ]; then
    echo "ngx_llm needs these Debian packages; as root run:"
    echo "  apt-get update && apt-get install -y" $PKGS
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $PKGS
