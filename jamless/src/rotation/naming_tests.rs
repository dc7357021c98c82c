use std::path::{Path, PathBuf};

use super::{Names, Naming, ParsedName};
use crate::rotation::instance::InstanceEnv;
use crate::rotation::retention::Compression;

fn env() -> InstanceEnv {
    InstanceEnv {
        host: Some("web-1".into()),
        pod_name: Some("pod-7".into()),
        hostname_env: None,
        pid: 4711,
        random: "k3x9a0bq".into(),
    }
}

fn names(naming: Naming) -> Names {
    naming
        .resolve(&env())
        .unwrap_or_else(|e| panic!("resolve: {e}"))
}

fn parsed(label: &str, index: u32, compression: Compression, temp: bool) -> Option<ParsedName> {
    Some(ParsedName {
        label: label.to_string(),
        index,
        compression,
        temp,
    })
}

#[test]
fn writes_the_documented_names() {
    let app = names(Naming::new("/var/log/app", "app"));
    assert_eq!(app.file_name("2026-11-27", 0), "app.2026-11-27.log");
    assert_eq!(app.file_name("2026-11-27", 1), "app.2026-11-27.1.log");
    assert_eq!(app.file_name("2026-11-27T13", 0), "app.2026-11-27T13.log");
    assert_eq!(
        app.file_name("2026-11-27T13-05", 0),
        "app.2026-11-27T13-05.log"
    );
    assert_eq!(
        app.file_name("2026-11-27T13-05-10", 0),
        "app.2026-11-27T13-05-10.log"
    );
    assert_eq!(app.file_name("", 0), "app.log");
    assert_eq!(app.file_name("", 3), "app.3.log");
    assert_eq!(
        app.path("2026-11-27", 2),
        PathBuf::from("/var/log/app/app.2026-11-27.2.log")
    );
    assert_eq!(app.active_path(), None);

    let pod = names(Naming::new("logs", "app").instance_tag("{pod}"));
    assert_eq!(pod.file_name("2026-11-27", 0), "app.pod-7.2026-11-27.log");
    assert_eq!(pod.tag(), Some("pod-7"));

    let bare = names(Naming::new("logs", "app").suffix(""));
    assert_eq!(bare.file_name("2026-11-27", 1), "app.2026-11-27.1");
    assert_eq!(bare.file_name("", 0), "app");

    let fixed = names(Naming::from_path("logs/app.log").fixed_active_name(true));
    assert_eq!(fixed.active_path(), Some(PathBuf::from("logs/app.log")));
    assert_eq!(fixed.file_name("2026-11-27", 0), "app.2026-11-27.log");
    assert!(fixed.is_fixed_active());
}

#[test]
fn names_round_trip() {
    let namings = [
        Naming::new("d", "app"),
        Naming::new("d", "app").instance_tag("{pod}"),
        Naming::new("d", "app").instance_tag("{host}-{pid}"),
        Naming::new("d", "my.app").suffix("json.log"),
        Naming::new("d", "app").suffix(""),
        Naming::new("d", "app").fixed_active_name(true),
    ];
    let labels = [
        "",
        "2026-11-27",
        "2026-11-27T13",
        "2026-11-27T13-05",
        "2026-11-27T13-05-10",
        "2026-11-01T01-0400",
        "2026-11-01T01-30-0500",
        "2026-11-27T13-07Z",
        "2026-11-27Z",
    ];
    let exts = [
        ("", Compression::None, false),
        (".gz", Compression::Gzip, false),
        (".zst", Compression::Zstd, false),
        (".gz.tmp", Compression::Gzip, true),
        (".zst.tmp", Compression::Zstd, true),
    ];
    let mut checked = 0;
    for naming in namings {
        let names = names(naming);
        for label in labels {
            for index in [0, 1, 12, u32::MAX] {
                for (ext, compression, temp) in exts {
                    let name = format!("{}{ext}", names.file_name(label, index));
                    let expected = if names.is_fixed_active() && label.is_empty() && index == 0 {
                        None // the active file, not a period file
                    } else {
                        parsed(label, index, compression, temp)
                    };
                    assert_eq!(names.parse(&name), expected, "{name}");
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, 6 * 9 * 4 * 5);
}

#[test]
fn other_loggers_files_are_not_matched() {
    let app = names(Naming::new("logs", "app"));
    for name in [
        "app2.2026-11-27.log",
        "xapp.2026-11-27.log",
        ".app.2026-11-27.log",
        "app.2026-11-27.log.bak",
        "app.2026-11-27.log.tmp",
        "app.2026-11-27.txt",
        "app.2026-11-27",
        "app.pod-7.2026-11-27.log",
        "app.access.log",
        "app.access.2026-11-27.log",
        "app.2026-11-27.0.log",
        "app.2026-11-27.01.log",
        "app.2026-11-27.1.2.log",
        "app.2026-11-27.99999999999.log",
        "app.1.2026-11-27.log",
        "app.2026-11-27..log",
        "app..log",
        "app.log.log",
        "app.2026-13-27.log",
        "applog",
        "app.log.gz.gz",
        "app.2026-11-27.log.xz",
    ] {
        assert_eq!(app.parse(name), None, "{name}");
    }
    let tagged = names(Naming::new("logs", "app").instance_tag("{pod}"));
    for name in [
        "app.2026-11-27.log",
        "app.pod-8.2026-11-27.log",
        "app.pod-77.2026-11-27.log",
        "app.pod-7.log.2026-11-27",
    ] {
        assert_eq!(tagged.parse(name), None, "{name}");
    }
    assert_eq!(
        tagged.parse("app.pod-7.log"),
        parsed("", 0, Compression::None, false)
    );
}

#[test]
fn from_path_splits_the_parts() {
    let cases = [
        ("logs/app.log", "logs", "app.2026-11-27.log"),
        (
            "/var/log/x/service.json",
            "/var/log/x",
            "service.2026-11-27.json",
        ),
        ("app.log", ".", "app.2026-11-27.log"),
        ("logs/app", "logs", "app.2026-11-27"),
    ];
    for (path, dir, name) in cases {
        let names = names(Naming::from_path(path));
        assert_eq!(names.dir(), Path::new(dir), "{path}");
        assert_eq!(names.file_name("2026-11-27", 0), name, "{path}");
    }
}

#[test]
fn bad_parts_are_config_errors() {
    let bad = [
        Naming::new("d", ""),
        Naming::new("d", "."),
        Naming::new("d", ".."),
        Naming::new("d", "a/b"),
        Naming::new("d", "app."),
        Naming::new("d", "app").suffix("gz"),
        Naming::new("d", "app").suffix("log.gz"),
        Naming::new("d", "app").suffix("zst"),
        Naming::new("d", "app").suffix("tmp"),
        Naming::new("d", "app").suffix(".log"),
        Naming::new("d", "app").suffix("log."),
        Naming::new("d", "app").suffix("a..b"),
        Naming::new("d", "app").suffix("x/y"),
        Naming::new("d", "app").suffix("7"),
        Naming::new("d", "app").suffix("2026-11-27"),
        Naming::new("d", "app").instance_tag("{nope}"),
        Naming::new("d", "app").instance_tag("123"),
        Naming::from_path("/"),
    ];
    for naming in bad {
        let result = naming.resolve(&env());
        assert!(
            result.as_ref().is_err_and(|e| e.is_config()),
            "{naming:?}: {result:?}"
        );
    }
}
