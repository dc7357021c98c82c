//! The configuration file: every key reaches the builder, errors say where
//! and what, a bad file never panics, and the committed examples parse.
#![cfg(feature = "config")]

mod common;

use jamless::{Builder, Level, Outcome};

use common::{read_lines, settle};

fn config_error(text: &str) -> String {
    match Builder::from_config_str(text, "svc.toml") {
        Ok(b) => panic!("accepted: {b:?}"),
        Err(e) => {
            assert!(e.is_config(), "{e}");
            let e = e.to_string();
            assert_eq!(e.matches("invalid configuration").count(), 1, "{e}");
            assert!(!e.contains("$__"), "no serde internals in the key: {e}");
            e
        }
    }
}

#[test]
fn the_container_example_parses() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/examples/container.toml"
    );
    let b = Builder::from_config_file(path).unwrap();
    assert!(format!("{b:?}").contains("orders"), "{b:?}");
}

/// A file that names every key (most with a non-default value).
fn every_key(dir: &std::path::Path) -> String {
    format!(
        r#"
name = "every-key"
capacity_bytes = 131072
max_record_bytes = 4096
overflow = {{ policy = "block_for", timeout = "20ms" }}
shedding = {{ watermark = 0.9, keep = "error" }}
filter = "trace"
error_handler = "none"
format = {{ type = "text", pattern = "{{level}} {{target}} {{message}}{{fields}}", timezone = "utc" }}
fallback = "stderr"
fallback_after = "2s"
retry_backoff = {{ initial = "1ms", max = "100ms" }}
idle_interval = "2ms"
maintain_interval = "100ms"
notice_interval = "500ms"
stall_timeout = "3s"
watch_interval = "50ms"
shutdown_timeout = "4s"

[[pipeline]]
name = "text"
filter = "debug,noisy=off"
backlog_bytes = 65536
fallback = "none"
fallback_after = "1s"
retry_backoff = {{ initial = "2ms", max = "50ms" }}
essential = true
sink = {{ type = "file", path = "{dir}/text.log", mode = 0o600, follow_symlinks = false, create_dirs = true, check_interval = "20ms" }}

[[pipeline]]
name = "json"
essential = false
format = {{ type = "json", timezone = "local" }}
[pipeline.sink]
type = "rotating"
path = "{dir}/json.log"
suffix = "jsonl"
instance_tag = "{{pid}}"
fixed_name = true
rotation = "15m"
timezone = "utc"
max_bytes = 1048576
rotate_on_start = false
mode = 0o640
follow_symlinks = false
check_interval = "50ms"
retention = {{ max_files = 3, max_age = "2days", max_total_bytes = 10485760, compress = "gzip", grace = "1s", free_space_on_enospc = true }}

[[pipeline]]
name = "syslog"
essential = false
filter = "off"
format = {{ type = "syslog", rfc = "5424", facility = "local3", hostname = "h", app_name = "a", procid = "1", msgid = "m", msgid_from_target = true, sd_id = "x@1", bom = false }}
sink = {{ type = "syslog", transport = "udp", address = "127.0.0.1:9", connect_timeout = "1s", write_timeout = "1s", ack_timeout = "1s", window = 8, max_message_bytes = 2048, reconnect_backoff = {{ initial = "10ms", max = "1s" }} }}

[[pipeline]]
name = "err"
filter = "off"
sink = {{ type = "stderr" }}

[[pipeline]]
name = "out"
filter = "off"
sink = {{ type = "stdout" }}
"#,
        dir = dir.display()
    )
}

#[test]
fn every_key_reaches_the_logger() {
    let dir = tempfile::tempdir().unwrap();
    let text = every_key(dir.path());
    let (logger, guard) = Builder::from_config_str(&text, "every.toml")
        .unwrap()
        .build()
        .unwrap();
    let h = logger.health();
    assert_eq!(h.queue_capacity_bytes, 131072, "{h}");
    assert_eq!(logger.max_record_bytes(), 4096);
    assert_eq!(
        logger.pipeline_filter("text").as_deref(),
        Some("debug,noisy=off")
    );
    assert_eq!(h.pipelines.len(), 5, "{h}");
    assert_eq!(
        logger.log(Level::Debug, "app", format_args!("id=1")),
        Outcome::Accepted
    );
    logger.log(Level::Info, "noisy", format_args!("id=2"));
    logger.log(Level::Trace, "app", format_args!("id=3"));
    let h = settle(&logger);
    assert_eq!((h.offered, h.accepted), (3, 3), "{h}");
    for p in &h.pipelines {
        assert_eq!(p.received, p.written + p.dropped() + p.queued, "{h}");
    }
    let text_lines = read_lines(&dir.path().join("text.log"));
    assert_eq!(
        text_lines,
        vec!["DEBUG app id=1".to_string()],
        "pattern and filter"
    );
    // The fixed name carries the instance tag and the suffix.
    let active = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            name.starts_with("json") && name.ends_with(".jsonl")
        })
        .expect("the rotating sink's file");
    let json = read_lines(&active);
    assert_eq!(json.len(), 3, "every level: {json:?}");
    assert!(json.iter().all(|l| l.starts_with('{')), "{json:?}");
    drop(guard);
}

#[test]
fn unknown_keys_name_the_file_line_column_and_key() {
    let e = config_error(
        "name = \"x\"\n\n[[pipeline]]\nname = \"a\"\nsink = { type = \"stdout\" }\nfilterr = \"info\"\n",
    );
    assert!(e.contains("svc.toml:6:1"), "{e}");
    assert!(
        e.contains("filterr") && e.contains("expected one of"),
        "{e}"
    );
    let e = config_error("capacity = 5\n");
    assert!(e.contains("svc.toml:1:1") && e.contains("capacity"), "{e}");
    // In a nested table: the key path says which pipeline.
    let e = config_error(
        "[[pipeline]]\nname = \"a\"\nsink = { type = \"file\", path = \"x\", colour = true }\n",
    );
    assert!(e.contains("svc.toml:3:") && e.contains("colour"), "{e}");
}

#[test]
fn wrong_types_name_the_key_and_what_was_expected() {
    let e = config_error("capacity_bytes = \"big\"\n");
    assert!(
        e.contains("svc.toml:1:18") && e.contains("capacity_bytes"),
        "{e}"
    );
    assert!(e.contains("expected"), "{e}");
    let e = config_error("shutdown_timeout = \"soon\"\n");
    assert!(
        e.contains("shutdown_timeout") && e.contains("duration"),
        "{e}"
    );
    let e = config_error("[[pipeline]]\nname = 7\nsink = { type = \"stdout\" }\n");
    assert!(
        e.contains("svc.toml:2:8") && e.contains("pipeline[0].name"),
        "{e}"
    );
    assert!(e.contains("expected a string"), "{e}");
    let e = config_error("[[pipeline]]\nname = \"a\"\nsink = { type = \"tape\" }\n");
    assert!(
        e.contains("pipeline[0].sink.type") && e.contains("tape"),
        "{e}"
    );
    assert!(e.contains("rotating"), "names what was expected: {e}");
}

#[test]
fn invalid_values_say_where() {
    let e = config_error(
        "[[pipeline]]\nname = \"a\"\nfilter = \"info,db=loud\"\nsink = { type = \"stdout\" }\n",
    );
    assert!(
        e.contains("svc.toml:3:10: pipeline[0].filter") && e.contains("loud"),
        "{e}"
    );
    let e = config_error(
        "filter = \"info,[\"\n[[pipeline]]\nname = \"a\"\nsink = { type = \"stdout\" }\n",
    );
    assert!(e.contains("svc.toml:1:10: filter"), "{e}");
    let e =
        config_error("[[pipeline]]\nname = \"a\"\nsink = { type = \"stdout\", path = \"x\" }\n");
    assert!(
        e.contains("pipeline[0].sink.path") && e.contains("not a key of a stdout sink"),
        "{e}"
    );
    let e = config_error(
        "[[pipeline]]\nname = \"a\"\nsink = { type = \"rotating\", path = \"x\", rotation = \"weekly\" }\n",
    );
    assert!(
        e.contains("pipeline[0].sink.rotation") && e.contains("weekly"),
        "{e}"
    );
    let e = config_error(
        "[[pipeline]]\nname = \"a\"\nsink = { type = \"stdout\" }\nformat = { type = \"text\", pattern = \"{nope}\" }\n",
    );
    assert!(
        e.contains("svc.toml:4:") && e.contains("pipeline[0].format.pattern"),
        "{e}"
    );
    let e = config_error("overflow = { policy = \"block_for\" }\n[[pipeline]]\nname = \"a\"\nsink = { type = \"stdout\" }\n");
    assert!(e.contains("overflow.timeout"), "{e}");
    let e = config_error("name = \"x\"\n");
    assert!(e.contains("[[pipeline]]"), "{e}");
    let e = config_error("[[pipeline]]\nname = \"a\"\nsink = { type = \"file\" }\n");
    assert!(
        e.contains("pipeline[0].sink.path") && e.contains("missing"),
        "{e}"
    );
}

#[test]
fn values_the_builder_refuses_are_configuration_errors_at_build() {
    let b = Builder::from_config_str(
        "capacity_bytes = 10\n[[pipeline]]\nname = \"a\"\nsink = { type = \"stdout\" }\n",
        "svc.toml",
    )
    .unwrap();
    let e = b.build().unwrap_err();
    assert!(
        e.is_config() && e.to_string().contains("capacity_bytes"),
        "{e}"
    );
}

#[test]
fn garbage_never_panics() {
    let inputs: Vec<Vec<u8>> = vec![
        b"[[[".to_vec(),
        b"= = =".to_vec(),
        b"[pipeline]\nname = 1".to_vec(),
        b"pipeline = 3".to_vec(),
        b"pipeline = [1, 2]".to_vec(),
        b"[[pipeline]]\nsink = \"stdout\"".to_vec(),
        b"a = \"\xff\xfe\"".to_vec(),
        vec![0u8; 64],
        (0..=255u8).collect(),
    ];
    for input in inputs {
        let text = String::from_utf8_lossy(&input);
        let r = std::panic::catch_unwind(|| Builder::from_config_str(&text, "g.toml").map(drop));
        match r {
            Ok(Err(e)) => assert!(e.is_config() && e.to_string().contains("g.toml"), "{e}"),
            Ok(Ok(())) => panic!("accepted garbage {text:?}"),
            Err(_) => panic!("panicked on {text:?}"),
        }
    }
}

#[test]
fn a_missing_file_is_an_io_error_naming_it() {
    let e = Builder::from_config_file("/nonexistent/jamless.toml").unwrap_err();
    assert!(
        e.is_io() && e.to_string().contains("/nonexistent/jamless.toml"),
        "{e}"
    );
}

#[test]
fn the_environment_names_the_file() {
    // The only test in this binary that touches JAMLESS_CONFIG.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("env.toml");
    std::fs::write(
        &path,
        "[[pipeline]]\nname = \"only\"\nsink = { type = \"stdout\" }\nfilter = \"warn\"\n",
    )
    .unwrap();
    std::env::remove_var(jamless::CONFIG_ENV);
    assert!(Builder::from_env_config().unwrap_err().is_config());
    std::env::set_var(jamless::CONFIG_ENV, &path);
    let (logger, _guard) = Builder::from_env_config().unwrap().build().unwrap();
    assert_eq!(logger.pipeline_filter("only").as_deref(), Some("warn"));
    assert_eq!(
        logger.log(Level::Info, "x", format_args!("dropped by the filter")),
        Outcome::Filtered
    );
}

#[test]
fn the_other_spellings_of_policies_build() {
    let text = concat!(
        "overflow = { policy = \"drop_newest\" }\n",
        "shedding = { enabled = false }\n",
        "error_handler = \"stderr\"\n",
        "fallback = \"stdout\"\n",
        "[[pipeline]]\nname = \"a\"\nsink = { type = \"stdout\" }\nfilter = \"off\"\n",
        "[[pipeline]]\nname = \"b\"\nfallback = \"none\"\nsink = { type = \"stderr\" }\n",
        "filter = \"off\"\nformat = { type = \"syslog\", rfc = \"3164\" }\n",
    );
    let (logger, _guard) = Builder::from_config_str(text, "p.toml")
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(
        logger.log(Level::Error, "x", format_args!("nobody takes it")),
        Outcome::Filtered
    );
    let e = config_error(concat!(
        "overflow = { policy = \"drop_newest\", timeout = \"1s\" }\n",
        "[[pipeline]]\nname = \"a\"\nsink = { type = \"stdout\" }\n",
    ));
    assert!(e.contains("overflow.timeout"), "{e}");
    let e = config_error("shedding = { watermark = \"high\" }\n");
    assert!(
        e.contains("shedding.watermark") && e.contains("expected f64"),
        "{e}"
    );
}
