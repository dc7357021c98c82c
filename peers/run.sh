#!/usr/bin/env bash
# Runs the side-by-side benchmark (jamless and the Rust loggers people use,
# each in its own process) and writes its results into the "Peers" section of
# BENCHMARKS.md (between the peers:begin and peers:end markers; the rest of
# the file is kept), with JSON and SVG plots in peers/results/.
#
#   peers/run.sh            full run (about 10 minutes on 2 cores)
#   peers/run.sh --quick    smoke-sized run (about 30 seconds)
#
# Extra arguments go to the driver (see `target/release/peers --help`), e.g.
# --runs 5, --peers jamless,log4rs, --scenarios latency,stall.
# Log files go to a temporary directory ($JAMLESS_BENCH_DIR, else $TMPDIR or
# /tmp); the memory scenario writes about 1 GB per peer there (deleted after
# each peer).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "building (release)..." >&2
nice cargo build --release -q -p jamless-peers --bins
mkdir -p peers/results
nice target/release/peers --out peers/results --md BENCHMARKS.md "$@" >peers/results/report.md
echo "wrote BENCHMARKS.md (section 'Peers'), peers/results/{results.json,*.svg,report.md}" >&2
