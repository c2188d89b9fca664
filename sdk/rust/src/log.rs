//! Logging to the server log, tagged by the host with the plugin, its
//! version, the RPC id and the trace id. Use the macros [`debug!`](crate::debug),
//! [`info!`](crate::info), [`warn!`](crate::warn) and [`error!`](crate::error):
//! they take `format!` arguments and skip formatting when the server would
//! drop the line.

use std::fmt;

use crate::sys;

/// Level is a log level (ABI.md 3.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(i32)]
pub enum Level {
    Debug = sys::level::DEBUG,
    Info = sys::level::INFO,
    Warn = sys::level::WARN,
    Error = sys::level::ERROR,
}

/// enabled reports whether the server writes lines at `level`.
pub fn enabled(level: Level) -> bool {
    // SAFETY: log_level takes no arguments.
    level as i32 >= unsafe { sys::log_level() }
}

/// write logs `msg` at `level`. Messages over 8 KiB are cut by the host.
pub fn write(level: Level, msg: &str) {
    // SAFETY: msg is borrowed for the duration of the call. A failure
    // (only a bad level, impossible here) is ignored: logging is best effort.
    unsafe { sys::log(level as i32, msg.as_ptr(), msg.len()) };
}

/// write_fmt formats `args` and logs the result, unless `level` is off.
/// The logging macros call it.
pub fn write_fmt(level: Level, args: fmt::Arguments<'_>) {
    if !enabled(level) {
        return;
    }
    match args.as_str() {
        Some(s) => write(level, s),
        None => write(level, &args.to_string()),
    }
}

/// Logs at DEBUG level, with `format!` arguments: `warden::debug!("n = {}", n)`.
#[macro_export]
macro_rules! debug {
    ($($arg:tt)+) => { $crate::log::write_fmt($crate::log::Level::Debug, format_args!($($arg)+)) };
}

/// Logs at INFO level, with `format!` arguments: `warden::info!("n = {}", n)`.
#[macro_export]
macro_rules! info {
    ($($arg:tt)+) => { $crate::log::write_fmt($crate::log::Level::Info, format_args!($($arg)+)) };
}

/// Logs at WARN level, with `format!` arguments: `warden::warn!("n = {}", n)`.
#[macro_export]
macro_rules! warn {
    ($($arg:tt)+) => { $crate::log::write_fmt($crate::log::Level::Warn, format_args!($($arg)+)) };
}

/// Logs at ERROR level, with `format!` arguments: `warden::error!("n = {}", n)`.
#[macro_export]
macro_rules! error {
    ($($arg:tt)+) => { $crate::log::write_fmt($crate::log::Level::Error, format_args!($($arg)+)) };
}

#[cfg(test)]
mod tests {
    use crate::sys::native;

    struct Counted<'a>(&'a std::cell::Cell<u32>);

    impl std::fmt::Display for Counted<'_> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            self.0.set(self.0.get() + 1);
            f.write_str("x")
        }
    }

    #[test]
    fn macros_respect_level() {
        native::with(|f| {
            f.level = crate::sys::level::WARN;
            f.logs.clear();
        });
        let formatted = std::cell::Cell::new(0);
        crate::info!("skipped {}", Counted(&formatted));
        crate::warn!("kept {}", Counted(&formatted));
        crate::error!("plain");
        assert_eq!(formatted.get(), 1);
        let logs = native::with(|f| std::mem::take(&mut f.logs));
        assert_eq!(
            logs,
            vec![(2, "kept x".to_string()), (3, "plain".to_string())]
        );

        native::with(|f| f.level = crate::sys::level::DISABLED);
        crate::error!("off");
        assert!(native::with(|f| f.logs.is_empty()));
    }
}
