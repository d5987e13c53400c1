use std::cell::RefCell;
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
    let mut line = String::with_capacity(128);
    write_line(&mut line, level, message);
    line
}

fn write_line(line: &mut String, level: Level, message: &dyn Display) {
    use std::fmt::Write as _;
    line.push_str(level.as_str());
    line.push('\t');
    // Writing to a String cannot fail.
    let _ = write!(line, "{message}");
    line.push('\n');
}

/// Writes one log line to stderr with a single write. The line is
/// formatted into a buffer kept for the next one (a message that logs
/// while it is formatted gets a buffer of its own).
pub fn log(level: Level, message: impl Display) {
    thread_local! {
        static LINE: RefCell<String> = const { RefCell::new(String::new()) };
    }
    LINE.with(|kept| match kept.try_borrow_mut() {
        Ok(mut line) => {
            line.clear();
            write_line(&mut line, level, &message);
            let _ = std::io::stderr().lock().write_all(line.as_bytes());
            // A long line does not keep its memory.
            if line.capacity() > 4096 {
                *line = String::new();
            }
        }
        Err(_) => {
            let line = format_line(level, &message);
            let _ = std::io::stderr().lock().write_all(line.as_bytes());
        }
    });
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

    #[test]
    fn a_message_that_logs_while_formatted_is_written() {
        struct Nested;
        impl Display for Nested {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                log(Level::Debug, "inner");
                f.write_str("outer")
            }
        }
        // Neither a panic nor a deadlock: the inner line gets its own buffer.
        log(Level::Info, Nested);
        log(Level::Info, format_args!("after {}", 1));
    }
}
