//! The jamless demonstration's library: the HTTP service that the demo
//! runner starts twice (two "pods" sharing one log path), and the `naive`
//! logger it can run with.
//!
//! * [`service`]: the `jamless-demo-service` binary's code, an axum
//!   service whose request logging goes through jamless, the naive logger
//!   or nothing, with a `/health/logging` endpoint, Prometheus metrics and
//!   a statistics file written on `SIGTERM` even when the service hangs.
//! * [`naive`]: **the failure being demonstrated**, a port of the log4go
//!   file writer of `shared/INCIDENT.md`. Never copy it.
#![deny(missing_docs)]

pub mod naive;
pub mod service;
