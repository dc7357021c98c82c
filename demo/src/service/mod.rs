//! The demo HTTP service (`jamless-demo-service`): the shape of the
//! incident's Go service, in axum.
//!
//! * `GET /v1/healthCheck` answers a constant. Like every `/v1` route it
//!   sits behind tower-http's [`TraceLayer`], whose `on_request` makes one
//!   `tracing` event per request (`method`, `path`, `uri`, `instance`)
//!   before the handler runs: the incident's request-logging middleware.
//! * `GET /health/logging` (outside the `TraceLayer`) serves the logger's
//!   health as JSON, 200 while logging works and 503 when it does not.
//! * `GET /metrics` serves the same in Prometheus text format.
//!
//! Around the request's log call the service counts calls started,
//! returned, and waiting inside the logger right now; on `SIGTERM` a
//! thread outside the runtime writes them to the statistics file
//! ([`signals`]).
//!
//! ```text
//! jamless-demo-service --log-dir logs --logger jamless --rotate-secs 3 \
//!     --stats-file stats.json --instance pod-a
//! ```

pub mod logging;
pub mod metrics;
pub mod naive_syslog;
pub mod signals;
pub mod stats;

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{middleware, Json, Router};
use clap::Parser;
use tower_http::trace::TraceLayer;
use tracing::Span;

use self::logging::{LogFiles, LoggerKind, Logging};
use self::metrics::DemoMetrics;
use self::signals::ExitPath;

/// The service's command line.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "jamless-demo-service",
    about = "The demo HTTP service: request logging through jamless, the naive logger, or nothing."
)]
pub struct Args {
    /// Port on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Directory of the log files (created if missing).
    #[arg(long)]
    pub log_dir: PathBuf,
    /// Log file name.
    #[arg(long, default_value = "service.log")]
    pub log_name: String,
    /// Rotation period in seconds (0: one plain file, never rotated).
    #[arg(long, default_value_t = 3)]
    pub rotate_secs: u64,
    /// The logger.
    #[arg(long, value_enum, default_value_t = LoggerKind::Jamless)]
    pub logger: LoggerKind,
    /// Where to write the statistics on SIGTERM/SIGINT.
    #[arg(long)]
    pub stats_file: Option<PathBuf>,
    /// Naive logger only, a SIMULATION and not part of the ported logger:
    /// milliseconds added before each file-system call of a rotation, as on
    /// a slow file system, so that two instances rotating one path collide
    /// within a few rotations instead of about one in ten (0: faithful).
    #[arg(long, default_value_t = 0)]
    pub naive_fs_latency_ms: u64,
    /// A label for this instance, in every request's log line and the
    /// statistics.
    #[arg(long, default_value = "service")]
    pub instance: String,
    /// A syslog collector on TCP (`host:port`): jamless then logs to a file
    /// pipeline and a syslog pipeline; `--logger naive-syslog` needs it.
    #[arg(long)]
    pub syslog_addr: Option<String>,
    /// The backlog of jamless's syslog pipeline, KiB (at least 64). Small
    /// by default so that a stopped collector fills it within seconds at
    /// the demo's load; the library's default is 4 MiB.
    #[arg(long, default_value_t = 64)]
    pub syslog_backlog_kib: usize,
}

/// What the handlers share.
#[derive(Debug, Clone)]
struct AppState {
    logging: Arc<Logging>,
    metrics: Arc<DemoMetrics>,
    instance: Arc<str>,
}

/// Runs the service until a signal ends the process.
///
/// # Errors
///
/// The port cannot be bound, the logger cannot start, or the server fails.
pub fn run(args: Args) -> Result<()> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, args.port))
        .with_context(|| format!("binding 127.0.0.1:{}", args.port))?;
    listener
        .set_nonblocking(true)
        .context("making the listener non-blocking")?;
    let addr = listener.local_addr().context("reading the bound address")?;

    let files = LogFiles {
        dir: args.log_dir.clone(),
        name: args.log_name.clone(),
        rotate_secs: args.rotate_secs,
        naive_fs_latency: Duration::from_millis(args.naive_fs_latency_ms),
        syslog_addr: args.syslog_addr.clone(),
        syslog_backlog_bytes: args.syslog_backlog_kib << 10,
        app_name: format!("demo-{}", args.instance),
    };
    let (logging, guard) = Logging::install(args.logger, &files)?;
    let state = AppState {
        logging: Arc::new(logging),
        metrics: Arc::new(DemoMetrics::default()),
        instance: Arc::from(args.instance.as_str()),
    };
    ExitPath {
        logging: Arc::clone(&state.logging),
        guard,
        metrics: Arc::clone(&state.metrics),
        instance: args.instance.clone(),
        stats_file: args.stats_file.clone(),
    }
    .spawn()?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    runtime.block_on(serve(listener, addr, router(state)))
}

async fn serve(listener: TcpListener, addr: SocketAddr, app: Router) -> Result<()> {
    let listener =
        tokio::net::TcpListener::from_std(listener).context("registering the listener")?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening on {addr}")
        .and_then(|()| stdout.flush())
        .context("announcing the address on stdout")?;
    drop(stdout);
    axum::serve(listener, app).await.context("serving HTTP")
}

/// The routes: `/v1` behind the request log, the rest outside it.
fn router(state: AppState) -> Router {
    let request_log = {
        let state = state.clone();
        TraceLayer::new_for_http()
            .on_request(move |request: &Request<Body>, _span: &Span| {
                state.metrics.log_call(|| {
                    tracing::info!(
                        target: "jamless_demo::access",
                        method = %request.method(),
                        path = request.uri().path(),
                        uri = %request.uri(),
                        instance = &*state.instance,
                        "request"
                    );
                });
            })
            // One event per request: nothing on response, body or failure.
            .on_response(())
            .on_body_chunk(())
            .on_eos(())
            .on_failure(())
    };
    let v1 = Router::new()
        .route("/v1/healthCheck", get(health_check))
        .layer(request_log)
        .layer(middleware::map_request_with_state(
            state.clone(),
            count_request,
        ));
    Router::new()
        .route("/health/logging", get(health_logging))
        .route("/metrics", get(metrics))
        .merge(v1)
        .with_state(state)
}

/// Counts every `/v1` request, before the request log.
async fn count_request(State(state): State<AppState>, request: Request) -> Request {
    state.metrics.request_received();
    request
}

async fn health_check() -> &'static str {
    "ok\n"
}

async fn health_logging(State(state): State<AppState>) -> impl IntoResponse {
    let report = state.logging.health();
    let mut body = report.body;
    body["demo"] = serde_json::to_value(state.metrics.snapshot()).unwrap_or_default();
    body["demo"]["instance"] = serde_json::Value::from(&*state.instance);
    let status = if report.serving {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body))
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let mut text = state.logging.prometheus();
    text.push_str(&state.metrics.snapshot().to_prometheus());
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
}
