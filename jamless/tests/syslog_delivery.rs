//! Every transport of the syslog sink against a real rsyslogd: each record
//! arrives exactly once, with the right PRI, header fields, structured data
//! and message, as rsyslog itself parsed them.
#![cfg(feature = "tracing")]

mod common;
#[path = "common/rsyslog.rs"]
mod rsyslog;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{assert_accounted, is_notice, settle};
use jamless::{Builder, Facility, Format, Logger, SyslogFormat, SyslogSink, TlsConfig, Transport};
use rsyslog::{Inputs, Received, Rsyslog, SD_ID};
use tracing_subscriber::layer::SubscriberExt;

/// A value with everything structured data must escape, and a newline.
const TEXT: &str = "a \"b\" \\ ]\nend";
/// What that value looks like after the text escaping (newline as `\n`).
const TEXT_ESCAPED: &str = "a \"b\" \\ ]\\nend";

pub fn format(app: &str) -> Format {
    Format::syslog(
        SyslogFormat::rfc5424()
            .facility(Facility::Local3)
            .hostname("jamless-test")
            .app_name(app)
            .procid("4242")
            .msgid("TEST")
            .sd_id(SD_ID),
    )
}

fn logger(sink: SyslogSink, app: &str) -> (Logger, jamless::Guard) {
    Builder::new()
        .sink(sink)
        .fallback(None)
        .format(format(app))
        .filter("trace")
        .build()
        .unwrap()
}

/// Logs `n` records through tracing: fields, a span with a field, three
/// levels.
fn send(logger: &Logger, n: u64) {
    let subscriber = tracing_subscriber::registry().with(logger.tracing_layer());
    tracing::subscriber::with_default(subscriber, || {
        for i in 0..n {
            let span = tracing::info_span!("req", id = i % 7);
            let _e = span.enter();
            match i % 3 {
                0 => tracing::info!(seq = i, text = TEXT, "record {i} \"quoted\" ]"),
                1 => tracing::warn!(seq = i, text = TEXT, "record {i} \"quoted\" ]"),
                _ => tracing::error!(seq = i, text = TEXT, "record {i} \"quoted\" ]"),
            }
        }
    });
}

/// The records of `app` (notices left out), by sequence number; fails on
/// a duplicate or a wrong field.
fn check(got: &[Received], app: &str, n: u64, input: &str) {
    let mut seen = BTreeMap::new();
    for r in got.iter().filter(|r| r.app == app && !is_notice(&r.msg)) {
        let seq: u64 = r.sd["seq"].parse().unwrap();
        assert!(seq < n, "{r:?}");
        assert!(seen.insert(seq, ()).is_none(), "seq {seq} received twice");
        let sev = [6, 4, 3][(seq % 3) as usize];
        assert_eq!(
            (r.facility, r.severity, r.pri),
            (19, sev, 19 * 8 + sev),
            "{r:?}"
        );
        assert_eq!(r.hostname, "jamless-test");
        assert_eq!(r.procid, "4242");
        assert_eq!(r.msgid, "TEST");
        assert_eq!(r.sd_id, SD_ID, "{}", r.sd_raw);
        assert_eq!(r.sd["text"], TEXT_ESCAPED, "{}", r.sd_raw);
        assert_eq!(r.sd["req.id"], (seq % 7).to_string(), "{}", r.sd_raw);
        assert_eq!(r.sd["span"], "req", "{}", r.sd_raw);
        assert_eq!(r.msg, format!("record {seq} \"quoted\" ]"));
        assert_eq!(r.input, input);
    }
    let missing: Vec<u64> = (0..n).filter(|s| !seen.contains_key(s)).collect();
    assert!(missing.is_empty(), "records never received: {missing:?}");
}

fn deliver(inputs: Inputs, n: u64, input: &str, transport: impl Fn(&Rsyslog) -> Transport) {
    let dir = tempfile::tempdir().unwrap();
    let rs = Rsyslog::start(dir.path(), inputs);
    let app = format!("deliver-{input}");
    let sink = SyslogSink::builder(transport(&rs)).build().unwrap();
    let counters = sink.counters();
    let (logger, guard) = logger(sink, &app);
    send(&logger, n);
    let h = settle(&logger);
    assert_accounted(&h, n);
    assert_eq!(h.written, n, "{h}");
    let count = |got: &[Received]| {
        got.iter()
            .filter(|r| r.app == app && !is_notice(&r.msg))
            .count() as u64
    };
    rs.wait_for(Duration::from_secs(20), |got| count(got) >= n);
    drop(guard);
    // Anything late (a duplicate) would show up now.
    std::thread::sleep(Duration::from_millis(300));
    check(&rs.received(), &app, n, input);
    let stats = counters.snapshot();
    assert_eq!(stats.resent, 0, "{stats}");
    assert_eq!(stats.connection_losses, 0, "{stats}");
}

#[test]
fn udp_delivers_each_record_once() {
    let inputs = Inputs {
        udp: true,
        ..Inputs::default()
    };
    deliver(inputs, 500, "imudp", |rs| {
        Transport::udp(format!("127.0.0.1:{}", rs.udp_port))
    });
}

#[test]
fn tcp_delivers_each_record_once() {
    let inputs = Inputs {
        tcp: true,
        ..Inputs::default()
    };
    deliver(inputs, 3000, "imtcp", |rs| {
        Transport::tcp(format!("localhost:{}", rs.tcp_port))
    });
}

#[test]
fn unix_socket_delivers_each_record_once() {
    let inputs = Inputs {
        unix: true,
        ..Inputs::default()
    };
    deliver(inputs, 500, "imuxsock", |rs| {
        Transport::unix(&rs.unix_socket)
    });
}

#[test]
fn tls_delivers_each_record_once() {
    let inputs = Inputs {
        tls: true,
        ..Inputs::default()
    };
    deliver(inputs, 3000, "imtcp", |rs| {
        let c = rs.certs.as_ref().unwrap();
        Transport::tls(
            format!("127.0.0.1:{}", rs.tls_port),
            TlsConfig::new(&c.ca).server_name("localhost"),
        )
    });
}

#[test]
fn relp_delivers_each_record_once() {
    let inputs = Inputs {
        relp: true,
        ..Inputs::default()
    };
    deliver(inputs, 3000, "imrelp", |rs| {
        Transport::relp(format!("127.0.0.1:{}", rs.relp_port))
    });
}

#[test]
fn relp_over_tls_with_a_client_certificate_delivers_each_record_once() {
    let inputs = Inputs {
        relp_tls: true,
        ..Inputs::default()
    };
    deliver(inputs, 3000, "imrelp", |rs| {
        let c = rs.certs.as_ref().unwrap();
        Transport::relp_tls(
            format!("127.0.0.1:{}", rs.relp_tls_port),
            TlsConfig::new(&c.ca).client_cert(&c.client_cert, &c.client_key),
        )
    });
}

#[test]
fn udp_cuts_long_messages_with_a_marker_and_counts_them() {
    let dir = tempfile::tempdir().unwrap();
    let rs = Rsyslog::start(
        dir.path(),
        Inputs {
            udp: true,
            ..Inputs::default()
        },
    );
    let sink = SyslogSink::builder(Transport::udp(format!("127.0.0.1:{}", rs.udp_port)))
        .max_message_bytes(1024)
        .build()
        .unwrap();
    let counters = sink.counters();
    let (logger, guard) = logger(sink, "cut");
    let long = "é".repeat(2000);
    logger.log(jamless::Level::Info, "t", format_args!("{long}"));
    logger.log(jamless::Level::Info, "t", format_args!("short"));
    let h = settle(&logger);
    assert_accounted(&h, 2);
    assert_eq!(h.written, 2);
    let got = rs.wait_for(Duration::from_secs(10), |g| g.len() >= 2);
    drop(guard);
    assert_eq!(counters.snapshot().truncated, 1);
    let cut = got.iter().find(|r| r.msg.starts_with('é')).unwrap();
    assert!(cut.msg.ends_with("bytes]"), "{}", cut.msg);
    assert!(cut.msg.contains("\u{2026}[truncated from "), "{}", cut.msg);
    assert!(cut.msg.len() < 1024, "{}", cut.msg.len());
    assert!(got.iter().any(|r| r.msg == "short"));
}

#[test]
fn tls_refuses_a_collector_it_cannot_verify_and_counts_the_records() {
    let dir = tempfile::tempdir().unwrap();
    let rs = Rsyslog::start(
        dir.path(),
        Inputs {
            tls: true,
            ..Inputs::default()
        },
    );
    let c = rs.certs.clone().unwrap();
    let addr = format!("127.0.0.1:{}", rs.tls_port);
    // The client certificate is no CA of the server's; the right CA with
    // the wrong name must fail too.
    for (tls, why) in [
        (TlsConfig::new(&c.client_cert), "UnknownIssuer"),
        (
            TlsConfig::new(&c.ca).server_name("other.example"),
            "not valid for name",
        ),
    ] {
        let (handler, reports) = common::collecting_handler();
        let sink = SyslogSink::builder(Transport::tls(addr.clone(), tls))
            .build()
            .unwrap();
        let (logger, guard) = Builder::new()
            .sink(sink)
            .fallback(None)
            .fallback_after(Duration::from_millis(300))
            .error_handler(handler)
            .format(format("refused"))
            .build()
            .unwrap();
        for i in 0..10 {
            logger.log(jamless::Level::Warn, "t", format_args!("not delivered {i}"));
        }
        let h = settle(&logger);
        assert_accounted(&h, 10);
        assert_eq!(h.written, 0, "{h}");
        assert_eq!(h.drops.io_failure, 10, "{h}");
        {
            // Not held across the shutdown below: it reports to this handler.
            let reports = reports.lock().unwrap();
            assert!(
                reports.iter().any(|r| r.message.contains(why)),
                "{why} in {reports:#?}"
            );
        }
        drop(guard);
    }
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        rs.received().iter().all(|r| r.app != "refused"),
        "nothing reached the collector"
    );
}
