//! The child process: `peer --peer NAME --scenario S --path P ... --json OUT`
//! installs one peer, runs one scenario, writes its result as JSON.

use clap::Parser as _;
use jamless_peers::scenario::{write_json_atomic, ChildArgs};

fn main() {
    let args = ChildArgs::parse();
    match jamless_peers::child::run(&args) {
        Ok(result) => {
            if let Err(e) = write_json_atomic(&args.json, &result) {
                eprintln!("peer: {e:#}");
                std::process::exit(2);
            }
            // Leave at once: some peers keep threads or handles that would
            // delay an orderly exit; everything they had is flushed.
            std::process::exit(0);
        }
        Err(e) => {
            eprintln!("peer {}: {e:#}", args.peer);
            std::process::exit(1);
        }
    }
}
