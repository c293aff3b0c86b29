//! HTTP `Range` requests (RFC 9110 §14) for firmware downloads, decided once for every shell
//! that serves bytes: one byte range is honoured; several ranges, or a header that does not
//! parse, get the whole file (which the RFC allows); a range wholly past the end is 416.

/// What to send for a `Range` header on a file of `size` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeAnswer {
    /// 200 with the whole file.
    Full,
    /// 206 with bytes `start..=end` and `Content-Range: bytes start-end/size`.
    Partial {
        /// First byte, inclusive.
        start: u64,
        /// Last byte, inclusive.
        end: u64,
    },
    /// 416 with `Content-Range: bytes */size`.
    Unsatisfiable,
}

impl RangeAnswer {
    /// Number of bytes to send.
    pub fn len(&self, size: u64) -> u64 {
        match *self {
            Self::Full => size,
            Self::Partial { start, end } => end - start + 1,
            Self::Unsatisfiable => 0,
        }
    }

    /// The `Content-Range` header value, if the answer has one.
    pub fn content_range(&self, size: u64) -> Option<String> {
        match *self {
            Self::Full => None,
            Self::Partial { start, end } => Some(format!("bytes {start}-{end}/{size}")),
            Self::Unsatisfiable => Some(format!("bytes */{size}")),
        }
    }
}

/// Decides how to answer `header` (the `Range` request header, if any) for `size` bytes.
pub fn answer_range(header: Option<&str>, size: u64) -> RangeAnswer {
    let Some(spec) = header.map(str::trim).and_then(|h| h.strip_prefix("bytes=")) else {
        return RangeAnswer::Full;
    };
    if spec.contains(',') {
        return RangeAnswer::Full;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeAnswer::Full;
    };
    let num = |s: &str| -> Option<u64> {
        let s = s.trim();
        (!s.is_empty() && s.len() <= 19 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    match (first.trim().is_empty(), num(first), num(last)) {
        // `bytes=-N`: the last N bytes.
        (true, _, Some(n)) => {
            if n == 0 || size == 0 {
                RangeAnswer::Unsatisfiable
            } else {
                RangeAnswer::Partial {
                    start: size.saturating_sub(n),
                    end: size - 1,
                }
            }
        }
        (false, Some(start), last_pos) => {
            if start >= size {
                return RangeAnswer::Unsatisfiable;
            }
            let end = match (last.trim().is_empty(), last_pos) {
                (true, _) => size - 1,
                (false, Some(l)) if l >= start => l.min(size - 1),
                _ => return RangeAnswer::Full,
            };
            RangeAnswer::Partial { start, end }
        }
        _ => RangeAnswer::Full,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn ranges() {
        use RangeAnswer::*;
        let cases: &[(Option<&str>, u64, RangeAnswer)] = &[
            (None, 100, Full),
            (Some("bytes=0-9"), 100, Partial { start: 0, end: 9 }),
            (Some("bytes=90-"), 100, Partial { start: 90, end: 99 }),
            (Some("bytes=90-1000"), 100, Partial { start: 90, end: 99 }),
            (Some("bytes=-10"), 100, Partial { start: 90, end: 99 }),
            (Some("bytes=-1000"), 100, Partial { start: 0, end: 99 }),
            (Some("bytes=100-"), 100, Unsatisfiable),
            (Some("bytes=-0"), 100, Unsatisfiable),
            (Some("bytes=0-"), 0, Unsatisfiable),
            (Some("bytes=5-4"), 100, Full),
            (Some("bytes=0-1,5-6"), 100, Full),
            (Some("items=0-1"), 100, Full),
            (Some("bytes=a-b"), 100, Full),
            (Some("bytes="), 100, Full),
            (Some("bytes=99999999999999999999-"), 100, Full),
            (Some(" bytes= 3 - 4 "), 100, Partial { start: 3, end: 4 }),
        ];
        for &(h, size, want) in cases {
            assert_eq!(answer_range(h, size), want, "{h:?} of {size}");
        }
        assert_eq!(
            Partial { start: 0, end: 9 }.content_range(100).as_deref(),
            Some("bytes 0-9/100")
        );
        assert_eq!(Partial { start: 0, end: 9 }.len(100), 10);
        assert_eq!(
            Unsatisfiable.content_range(100).as_deref(),
            Some("bytes */100")
        );
        assert_eq!(Full.content_range(100), None);
        assert_eq!(Full.len(100), 100);
    }
}
