//! The native macros' front-ends: `log`'s syntax (logger, target,
//! key-values), handed to the procedural `__native!` with the format string
//! and its arguments.

/// Logs at the error level through jamless's native path. See
/// [`info!`](crate::info) for the syntax.
#[macro_export]
macro_rules! error {
    ($($arg:tt)+) => { $crate::__jamless_log!(Error, $($arg)+) };
}

/// Logs at the warn level through jamless's native path. See
/// [`info!`](crate::info) for the syntax.
#[macro_export]
macro_rules! warn {
    ($($arg:tt)+) => { $crate::__jamless_log!(Warn, $($arg)+) };
}

/// Logs at the info level through jamless's native path: the caller copies
/// the arguments raw and the writer thread formats the message.
///
/// The syntax is `log::info!`'s:
///
/// ```no_run
/// # let (logger, _guard) = jamless::Builder::new().file("logs/app.log").build()?;
/// logger.install_native()?; // or install_log(), which installs both
/// let (path, ms) = ("/v1/users", 12.25);
/// jamless::info!("{path} took {ms:.1} ms");                  // inline captures
/// jamless::info!("{} took {:>8.3} ms", path, ms);             // positional, specs
/// jamless::info!("{p} {0:?}", 7, p = path);                   // named
/// jamless::info!(target: "http", "served {}", path);          // a constant target
/// jamless::info!(user_id = 42, admin = false; "login {}", path); // key-values
/// let adapter = logger.log_adapter()?;
/// jamless::info!(logger: &adapter, "to an explicit logger");  // not the global one
/// # Ok::<(), jamless::Error>(())
/// ```
///
/// * Which logger: the one installed with
///   [`Logger::install_native`](crate::Logger::install_native) (or
///   [`Logger::install_log`](crate::Logger::install_log)), or the
///   [`LogAdapter`](crate::LogAdapter) given with `logger:`. Without an
///   installed logger a call does nothing: one atomic load and a compare.
/// * Filtering: the logger's directives, exactly as the `log` adapter
///   applies them; a disabled call evaluates no argument.
/// * Arguments: integers, floats, `bool`, `char` and strings (and types
///   that implement [`NativeArg`](crate::NativeArg)) are copied raw; any
///   other argument is formatted on the caller, with its hole's spec. Every
///   spec of `format!` works and renders exactly as `format!` renders it.
/// * `target:` must be a constant `&'static str` (the call site is a
///   `static`).
/// * Key-values follow `log`'s rules (`key = value`, `key:? = value`,
///   `key:% = value`) and render as the `log` facade's do.
/// * Text and JSON lines are byte for byte those of the same `log::info!`
///   call through [`Logger::install_log`](crate::Logger::install_log); a
///   full queue drops and counts the record as it does for `log::info!`.
///
/// Needs the `log` feature (on by default).
#[macro_export]
macro_rules! info {
    ($($arg:tt)+) => { $crate::__jamless_log!(Info, $($arg)+) };
}

/// Logs at the debug level through jamless's native path. See
/// [`info!`](crate::info) for the syntax.
#[macro_export]
macro_rules! debug {
    ($($arg:tt)+) => { $crate::__jamless_log!(Debug, $($arg)+) };
}

/// Logs at the trace level through jamless's native path. See
/// [`info!`](crate::info) for the syntax.
#[macro_export]
macro_rules! trace {
    ($($arg:tt)+) => { $crate::__jamless_log!(Trace, $($arg)+) };
}

/// `logger:` and `target:`, as `log` reads them.
#[doc(hidden)]
#[macro_export]
macro_rules! __jamless_log {
    ($lvl:ident, logger: $logger:expr, target: $target:expr, $($rest:tt)+) => {
        $crate::__jamless_kv!($lvl, [$logger], [$target], $($rest)+)
    };
    ($lvl:ident, logger: $logger:expr, $($rest:tt)+) => {
        $crate::__jamless_kv!($lvl, [$logger], [], $($rest)+)
    };
    ($lvl:ident, target: $target:expr, $($rest:tt)+) => {
        $crate::__jamless_kv!($lvl, [], [$target], $($rest)+)
    };
    ($lvl:ident, $($rest:tt)+) => {
        $crate::__jamless_kv!($lvl, [], [], $($rest)+)
    };
}

/// Key-values (`k = v, k2:? = v2; "format", args`), captured with `log`'s
/// own macros so that they render as the facade's.
#[doc(hidden)]
#[macro_export]
macro_rules! __jamless_kv {
    ($lvl:ident, [$($logger:expr)?], [$($target:expr)?],
     $($key:tt $(:$capture:tt)? $(= $value:expr)?),+; $($arg:tt)+) => {
        $crate::__private::__native!(
            crate = $crate, level = $lvl, logger = [$($logger)?], target = [$($target)?],
            kvs = [&[$((
                $crate::__private::log::__log_key!($key),
                $crate::__private::log::__log_value!($key $(:$capture)* = $($value)*)
            )),+]],
            $($arg)+
        )
    };
    ($lvl:ident, [$($logger:expr)?], [$($target:expr)?], $($arg:tt)+) => {
        $crate::__private::__native!(
            crate = $crate, level = $lvl, logger = [$($logger)?], target = [$($target)?],
            kvs = [], $($arg)+
        )
    };
}
