//! The little XML the IAM query protocol needs: escaped text elements in
//! the `2010-05-08` namespace.

pub const NAMESPACE: &str = "https://iam.amazonaws.com/doc/2010-05-08/";

/// Appends `text` with `& < > " '` escaped, and characters XML 1.0 cannot
/// carry at all (most C0 controls) dropped.
pub fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
}

/// Appends `<name>text</name>`.
pub fn element(out: &mut String, name: &str, text: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    escape_into(out, text);
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_text() {
        let mut s = String::new();
        element(&mut s, "M", "a<b>&\"c'\u{1}d\n");
        assert_eq!(s, "<M>a&lt;b&gt;&amp;&quot;c&apos;d\n</M>");
    }
}
