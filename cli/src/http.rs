//! `GET /health` and `GET /metrics` on their own thread (`tiny_http`).

use std::net::SocketAddr;
use std::sync::Arc;

use jamless::Logger;
use tiny_http::{Header, Method, Request, Response, Server};

use crate::reader::InputStats;

/// Binds `addr` and serves the endpoints on a new thread until the process
/// exits. Fails at once if the address cannot be bound.
pub fn serve(addr: SocketAddr, logger: Logger, stats: Arc<InputStats>) -> Result<(), String> {
    let server = Server::http(addr).map_err(|e| format!("--health-addr {addr}: {e}"))?;
    std::thread::Builder::new()
        .name("jamless-http".into())
        .spawn(move || {
            for request in server.incoming_requests() {
                answer(request, &logger, &stats);
            }
        })
        .map_err(|e| format!("cannot start the health thread: {e}"))?;
    Ok(())
}

fn answer(request: Request, logger: &Logger, stats: &InputStats) {
    let path = request.url().split('?').next().unwrap_or("");
    let (status, content_type, body) = match (request.method(), path) {
        (Method::Get, "/health") => {
            let snapshot = logger.health();
            let status = if snapshot.state.is_serving() {
                200
            } else {
                503
            };
            match serde_json::to_string(&snapshot) {
                Ok(json) => (status, "application/json", json),
                Err(e) => (500, "text/plain", format!("cannot serialise health: {e}\n")),
            }
        }
        (Method::Get, "/metrics") => {
            let mut text = logger.health().to_prometheus();
            text.push_str(&stats.to_prometheus());
            (200, "text/plain; version=0.0.4", text)
        }
        (Method::Get, _) => (404, "text/plain", "try /health or /metrics\n".to_string()),
        _ => (405, "text/plain", "only GET\n".to_string()),
    };
    let mut response = Response::from_string(body).with_status_code(status);
    if let Ok(h) = Header::from_bytes("Content-Type", content_type) {
        response = response.with_header(h);
    }
    if let Err(e) = request.respond(response) {
        // The client went away: nothing to answer, nothing lost.
        eprintln!("jamless: health endpoint: {e}");
    }
}
