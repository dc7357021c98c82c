//! The driver: `peers [--quick] [--peers a,b] [--scenarios ...] [--runs K]
//! [--out DIR] [--md BENCHMARKS.md]` runs every scenario against every
//! peer (each in its own `peer` child process), then writes tables and
//! plots.

use clap::Parser as _;

fn main() {
    let opts = jamless_peers::driver::Options::parse();
    if let Err(e) = jamless_peers::driver::main(opts) {
        eprintln!("peers: {e:#}");
        std::process::exit(1);
    }
}
