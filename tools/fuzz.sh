#!/bin/sh
# Builds each libFuzzer target with ASan and UBSan and runs it for a
# bounded time on its seed corpus.  Crashes land in fuzz/out/<name>/.
set -e
t=$1
shift
mkdir -p build/fuzz fuzz/out
fail=0
for src in "$@"; do
    name=$(basename "$src" .c)
    short=${name#fuzz_}
    bin=build/fuzz/$name
    clang -g -O1 -fsanitize=fuzzer,address,undefined \
        -fno-sanitize-recover=undefined -Iadapters "$src" adapters/*.c \
        -lcjson -lyaml -lcrypto -lm -o "$bin"
    mkdir -p "fuzz/out/$short" "build/fuzz/corpus/$short"
    [ -d "fuzz/corpus/$short" ] && cp -r "fuzz/corpus/$short/." \
        "build/fuzz/corpus/$short/"
    echo "fuzz: $name for ${t}s"
    if ! "$bin" -max_total_time="$t" -print_final_stats=0 \
            -artifact_prefix="fuzz/out/$short/" \
            "build/fuzz/corpus/$short" > "build/fuzz/$name.log" 2>&1
    then
        tail -30 "build/fuzz/$name.log"
        fail=1
    fi
done
[ "$fail" = 0 ] && echo "fuzz: no findings"
exit $fail
