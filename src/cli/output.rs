//! Output helpers: stdout writes that tolerate a closed pipe, pretty JSON,
//! human sizes and plain-text tables.

use std::io::Write as _;

use serde_json::Value;

/// Writes `text` plus a newline to stdout, ignoring a closed pipe.
pub fn out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{text}");
    let _ = stdout.flush();
}

/// Writes raw bytes to stdout, ending with a newline, ignoring a closed pipe.
pub fn out_bytes(bytes: &[u8]) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(bytes);
    if !bytes.ends_with(b"\n") {
        let _ = stdout.write_all(b"\n");
    }
    let _ = stdout.flush();
}

/// Pretty-prints a JSON value to stdout.
pub fn out_json(value: &Value) {
    match serde_json::to_string_pretty(value) {
        Ok(s) => out(&s),
        Err(_) => out(&value.to_string()),
    }
}

/// `512 B`, `12.3 KB`, `4.0 MB`, `1.2 GB` (powers of 1024).
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut size = bytes as f64 / 1024.0;
    let mut unit = 0;
    while size >= 1024.0 && unit + 1 < UNITS.len() {
        size /= 1024.0;
        unit += 1;
    }
    format!("{size:.1} {}", UNITS[unit])
}

/// Left-aligned columns separated by two spaces; trailing spaces trimmed.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i > 0 {
                s.push_str("  ");
            }
            s.push_str(cell);
            let pad = widths
                .get(i)
                .copied()
                .unwrap_or(0)
                .saturating_sub(cell.chars().count());
            s.extend(std::iter::repeat_n(' ', pad));
        }
        s.trim_end().to_string()
    };
    let mut lines = vec![line(headers.to_vec())];
    for row in rows {
        lines.push(line(row.iter().map(String::as_str).collect()));
    }
    lines.join("\n")
}

/// A string field, or `""`.
pub fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// A numeric field rendered as text, or `-`.
pub fn n(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::Number(x)) => x.to_string(),
        _ => "-".to_string(),
    }
}

/// Quotes a word for a copy-pasteable shell command when it needs it.
pub fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:/@%+=,".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1023), "1023 B");
        assert_eq!(human_size(1024), "1.0 KB");
        assert_eq!(human_size(12_595), "12.3 KB");
        assert_eq!(human_size(5 * 1024 * 1024), "5.0 MB");
    }

    #[test]
    fn tables_align() {
        let t = table(
            &["NAME", "MEMORY"],
            &[
                vec!["hello-world".into(), "128".into()],
                vec!["a".into(), "10240".into()],
            ],
        );
        assert_eq!(t, "NAME         MEMORY\nhello-world  128\na            10240");
    }

    #[test]
    fn shell_words() {
        assert_eq!(shell_word("hello"), "hello");
        assert_eq!(shell_word("hello:live"), "hello:live");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word("$LATEST"), "'$LATEST'");
    }
}
