//! Helpers the unit tests share (compiled for tests only).

/// Every prefix of `raw`, and `raw` with each byte in turn shifted by 0x80 (into or out of
/// the non-ASCII range): the inputs the "never panics" tests feed a parser.
pub(crate) fn mutations(raw: &[u8]) -> impl Iterator<Item = Vec<u8>> + '_ {
    (0..raw.len()).flat_map(move |i| {
        let mut flipped = raw.to_vec();
        flipped[i] = flipped[i].wrapping_add(0x80);
        [raw[..i].to_vec(), flipped]
    })
}
