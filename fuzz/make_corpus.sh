#!/usr/bin/env bash
# Rebuilds the committed seed corpus, fuzz/corpus/<target>/: the hand-made
# seeds of make_corpus.py, grown by a short deterministic fuzz run of small
# inputs, then reduced to a small set that covers the same code.
# Needs nightly and cargo-fuzz (`cargo install cargo-fuzz --locked`).
set -euo pipefail
cd "$(dirname "$0")"
# Runs per target: enough for a few dozen files each (the filter parsers
# and the decoder find new paths fastest).
declare -A RUNS=([record_decode]=400 [record_render]=8000 [text_pattern]=3000 [filter_directives]=300)
python3 make_corpus.py
cargo +nightly fuzz build -a
bin=target/x86_64-unknown-linux-gnu/release
for t in $(cargo +nightly fuzz list); do
    work=$(mktemp -d)
    cp seeds/"$t"/* "$work"/ 2>/dev/null || true
    "$bin/$t" -runs="${RUNS[$t]:-1000}" -max_len=256 -seed=1 "$work" >/dev/null 2>&1
    rm -rf corpus/"$t"
    mkdir -p corpus/"$t"
    "$bin/$t" -set_cover_merge=1 corpus/"$t" seeds/"$t" "$work" >/dev/null 2>&1
    rm -rf "$work"
    echo "$t: $(ls corpus/"$t" | wc -l) files, $(cat corpus/"$t"/* | wc -c) bytes"
done
