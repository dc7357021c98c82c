//! `jamless-demo-service`: the demo HTTP service. See
//! [`jamless_demo::service`] for what it serves and `--help` for its flags.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = jamless_demo::service::Args::parse();
    match jamless_demo::service::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("jamless-demo-service: {e:#}");
            ExitCode::FAILURE
        }
    }
}
