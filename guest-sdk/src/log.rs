use std::fmt::{self, Display};
use std::io::Write;

/// Log level of a line written by [`log`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
        }
    }
}

impl Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Formats a log line: `LEVEL\t<message>\n`. The host prefixes every line
/// it captures with a timestamp and the request id, so the result reads like
/// Lambda's own `timestamp\trequestId\tLEVEL\tmessage`.
pub(crate) fn format_line(level: Level, message: &dyn Display) -> String {
    use std::fmt::Write as _;
    let mut line = String::with_capacity(128);
    line.push_str(level.as_str());
    line.push('\t');
    // Writing to a String cannot fail.
    let _ = write!(line, "{message}");
    line.push('\n');
    line
}

/// Writes one log line to stderr with a single write.
pub fn log(level: Level, message: impl Display) {
    let line = format_line(level, &message);
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// Logs `message` at [`Level::Debug`].
pub fn debug(message: impl Display) {
    log(Level::Debug, message)
}

/// Logs `message` at [`Level::Info`].
pub fn info(message: impl Display) {
    log(Level::Info, message)
}

/// Logs `message` at [`Level::Warn`].
pub fn warn(message: impl Display) {
    log(Level::Warn, message)
}

/// Logs `message` at [`Level::Error`].
pub fn error(message: impl Display) {
    log(Level::Error, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_format() {
        assert_eq!(format_line(Level::Info, &"hi"), "INFO\thi\n");
        assert_eq!(
            format_line(Level::Error, &format_args!("n={}", 3)),
            "ERROR\tn=3\n"
        );
        assert!(Level::Debug < Level::Error);
    }
}
