//! The native macros' global logger: installed by `install_log` (with the
//! `log` facade) in this binary; `install_native` then refuses a second.
#![cfg(feature = "log")]

mod common;

use common::{assert_accounted, read_lines, settle};

use jamless::{Builder, Format};

#[test]
fn install_log_installs_the_macros_global_logger_too() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let (logger, _guard) = Builder::new()
        .file(&path)
        .format(Format::text_pattern("{level} {target}: {message}{fields}").unwrap())
        .filter("info,noisy=error")
        .build()
        .unwrap();
    logger.install_log().unwrap();
    let again = logger.install_native().unwrap_err();
    assert!(again.is_already_installed(), "{again}");

    let (id, status) = (42, 200);
    jamless::info!("request id={id} status={status}");
    log::info!("through the facade {}", 1);
    jamless::debug!("below the level");
    jamless::warn!(target: "noisy", "below its target's level");
    jamless::error!(target: "noisy::db", code = 7; "passes");
    let h = settle(&logger);
    assert_eq!(
        read_lines(&path),
        vec![
            "INFO native_global: request id=42 status=200",
            "INFO native_global: through the facade 1",
            "ERROR noisy::db: passes code=7",
        ]
    );
    assert_accounted(&h, 3);
}
