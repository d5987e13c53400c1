//! Finding the bytes of a JSON string that need attention (`"`, `\`,
//! control characters, and optionally non-ASCII) eight bytes at a time.
//! Compiled to wasm, a byte-at-a-time loop costs several times more
//! instructions per byte than on the host; ids, names, ARNs and header
//! values are usually all plain, so one test per word finds their end.

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `w` that is `"`, `\` or below 0x20, and of
/// each byte ≥ 0x80 too when `non_ascii`. A byte above a flagged one may be
/// flagged falsely, never one below, so the lowest flag is exact: with `w`
/// read little-endian, `trailing_zeros() / 8` is the first such byte.
const fn special_mask(w: u64, non_ascii: bool) -> u64 {
    let control = w.wrapping_sub(ONES * 0x20) & !w;
    let quote = w ^ (ONES * b'"' as u64);
    let quote = quote.wrapping_sub(ONES) & !quote;
    let backslash = w ^ (ONES * b'\\' as u64);
    let backslash = backslash.wrapping_sub(ONES) & !backslash;
    let high = if non_ascii { w } else { 0 };
    (control | quote | backslash | high) & HIGH
}

/// The index of the first byte of `bytes` that is `"`, `\` or below 0x20
/// (or ≥ 0x80, when `non_ascii`); `bytes.len()` if there is none. Inlined:
/// a call costs a wasm function's prologue and register saves, as much as
/// scanning a short string.
#[inline(always)]
pub(crate) fn first_special(bytes: &[u8], non_ascii: bool) -> usize {
    let mut i = 0;
    while let Some(word) = bytes.get(i..).and_then(<[u8]>::first_chunk::<8>) {
        let mask = special_mask(u64::from_le_bytes(*word), non_ascii);
        if mask != 0 {
            return i + (mask.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    // The last few bytes: as the last eight (those before them passed, so
    // the lowest flag is still the first special byte), or, in a string
    // shorter than a word, in a word padded with `a`s (plain) above them.
    let (at, word) = match bytes.last_chunk::<8>() {
        Some(last) => (bytes.len() - 8, u64::from_le_bytes(*last)),
        None => {
            let mut word = u64::from_le_bytes([b'a'; 8]);
            for (k, &b) in bytes.iter().enumerate() {
                let shift = 8 * k;
                word = (word & !(0xff << shift)) | (u64::from(b) << shift);
            }
            (0, word)
        }
    };
    let mask = special_mask(word, non_ascii);
    if mask != 0 {
        at + (mask.trailing_zeros() / 8) as usize
    } else {
        bytes.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slow(bytes: &[u8], non_ascii: bool) -> usize {
        bytes
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || b < 0x20 || (non_ascii && b >= 0x80))
            .unwrap_or(bytes.len())
    }

    #[test]
    fn finds_what_a_byte_loop_finds() {
        let specials = [b'"', b'\\', 0x00, 0x1f, 0x80, 0xff, b'\n'];
        let plain = [b'a', b' ', b'!', b'#', b'[', b']', 0x7f, b'0', 0x21, 0x5d];
        for len in 0..20 {
            for at in 0..=len {
                for &s in &specials {
                    for &p in &plain {
                        let mut bytes = vec![p; len];
                        if at < len {
                            bytes[at] = s;
                        }
                        // A second special later must not hide the first.
                        if at + 1 < len {
                            bytes[len - 1] = b'"';
                        }
                        for non_ascii in [false, true] {
                            assert_eq!(
                                first_special(&bytes, non_ascii),
                                slow(&bytes, non_ascii),
                                "{bytes:?} {non_ascii}"
                            );
                        }
                    }
                }
            }
        }
    }
}
