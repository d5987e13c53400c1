//! The string of a template value: shared, immutable, and either its own
//! allocation or a slice of a larger shared text.
//!
//! A JSON body read into values ([`super::quick_json`]) keeps its text once
//! and gives each unescaped string and key a slice of it, so a document
//! costs one allocation for all its strings instead of one per string.
//! Everything else (literals, method results, escaped strings) owns its
//! text. Either way a `Text` is a `str` to its users: it derefs, hashes,
//! compares and prints as one.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::rc::Rc;

#[derive(Clone)]
pub(crate) struct Text {
    shared: Rc<str>,
    /// The byte range of `shared` this text is (`u32`: template values
    /// come from bodies of at most 10 MB).
    start: u32,
    end: u32,
}

impl Text {
    /// `shared[range]`, or an allocation of its own if the range does not
    /// fit in `u32` offsets (a text larger than any body the gateway takes).
    #[inline]
    pub(crate) fn slice(shared: &Rc<str>, start: usize, end: usize) -> Text {
        match (u32::try_from(start), u32::try_from(end)) {
            (Ok(s), Ok(e))
                if start <= end && shared.is_char_boundary(start) && shared.is_char_boundary(end) =>
            {
                Text {
                    shared: shared.clone(),
                    start: s,
                    end: e,
                }
            }
            _ => Text::from(shared.get(start..end).unwrap_or_default()),
        }
    }

    /// `self.len()`, without making the `str`.
    #[inline]
    pub(crate) fn byte_len(&self) -> usize {
        (self.end - self.start) as usize
    }

    #[inline]
    pub(crate) fn as_str(&self) -> &str {
        // Both ends were checked as char boundaries of `shared` when the
        // text was made; `get` keeps that promise checked, not assumed.
        self.shared
            .get(self.start as usize..self.end as usize)
            .unwrap_or_default()
    }
}

impl From<Rc<str>> for Text {
    fn from(shared: Rc<str>) -> Text {
        let end = match u32::try_from(shared.len()) {
            Ok(end) => end,
            // Unreachable for template values (bodies and strings are capped
            // far below 4 GiB), but a text must never read short: keep what
            // fits, cut at a character boundary.
            Err(_) => {
                let mut cut = u32::MAX as usize;
                while !shared.is_char_boundary(cut) {
                    cut -= 1;
                }
                return Text::from(Rc::<str>::from(shared.get(..cut).unwrap_or_default()));
            }
        };
        Text {
            shared,
            start: 0,
            end,
        }
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Text {
        Text::from(Rc::<str>::from(s))
    }
}

impl From<String> for Text {
    fn from(s: String) -> Text {
        Text::from(Rc::<str>::from(s))
    }
}

impl From<&String> for Text {
    fn from(s: &String) -> Text {
        Text::from(s.as_str())
    }
}

impl std::ops::Deref for Text {
    type Target = str;
    #[inline]
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl Hash for Text {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // As `str` hashes, so that maps keyed by `Text` are searched by `&str`.
        self.as_str().hash(state);
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Text) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Text {
    fn cmp(&self, other: &Text) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slice_is_the_str_it_covers() {
        let shared: Rc<str> = Rc::from("{\"k\":\"héllo\"}");
        let k = Text::slice(&shared, 2, 3);
        let v = Text::slice(&shared, 6, 12);
        assert_eq!(&*k, "k");
        assert_eq!(&*v, "héllo");
        assert_eq!(v, Text::from("héllo"));
        let mut map = std::collections::HashMap::new();
        map.insert(v.clone(), 1);
        assert_eq!(map.get("héllo"), Some(&1));
        assert_eq!(format!("{v}|{v:?}"), "héllo|\"héllo\"");
    }

    #[test]
    fn a_slice_off_a_char_boundary_owns_what_it_can_read() {
        let shared: Rc<str> = Rc::from("é");
        assert_eq!(&*Text::slice(&shared, 1, 2), "");
        assert_eq!(&*Text::slice(&shared, 0, 9), "");
        assert_eq!(&*Text::slice(&shared, 0, 2), "é");
    }
}
