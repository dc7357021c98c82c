//! Any `RUST_LOG`-style directives: the `log` adapter's and the `tracing`
//! filter's parsers never panic, and when the `log` adapter takes its fast
//! path (the directives are one global level, checked with one comparison)
//! that comparison agrees with `env_filter` for every level and target.
#![no_main]

use jamless::__fuzz;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|spec: &str| {
    // Long specs only make the regex compiler slow, not the parsers wrong.
    if spec.len() > 512 {
        return;
    }
    if let Ok((filter, Some(max))) = __fuzz::log_filter(spec) {
        assert_eq!(filter.filter(), max, "max level of {spec:?}");
        for level in [
            log::Level::Error,
            log::Level::Warn,
            log::Level::Info,
            log::Level::Debug,
            log::Level::Trace,
        ] {
            for target in ["", "app", "app::db", spec] {
                let meta = log::Metadata::builder().level(level).target(target).build();
                assert_eq!(
                    filter.enabled(&meta),
                    level <= max,
                    "{spec:?}: {level} for target {target:?}"
                );
            }
        }
    }
    let _ = __fuzz::tracing_filter(spec);
});
