//! Fetched phonebook sources: any document gives entries or an error, never a panic, and
//! every entry passes the rule pasted lists pass; any URL is classified or refused.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = engine::parse_source(data) {
        assert!(p.entries.len() <= engine::MAX_PHONEBOOK_ENTRIES);
        for c in &p.entries {
            assert!(engine::check_contact(c).is_ok());
        }
        assert_eq!(engine::SourceFormat::parse(&p.format.name()), Some(p.format));
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(u) = engine::SourceUrl::parse(text) {
            assert!(!u.host.is_empty() && !u.host.contains('@'));
        }
    }
});
