//! The statistics file a service writes on SIGTERM (`--stats-file`): the
//! service's own type, read back.

pub use jamless_demo::service::stats::{read, Stats as ServiceStats};
