//! Phonebooks: the site's users plus entries from external sources (other PBXes), merged
//! deterministically and written in each vendor's remote-phonebook format.

use crate::error::Result;
use crate::inputs::Contact;
use crate::vendors::Vendor;

/// The most entries a phonebook may hold; phones slow down or truncate beyond this.
pub const MAX_ENTRIES: usize = 5000;

/// Merges contact lists into one phonebook.
///
/// Lists are given in priority order (the site's own users first, then each external
/// source). Entries with the same number (compared on digits, `+`, `*` and `#` only) are
/// duplicates: the first one in priority order wins. Entries without a number are dropped;
/// names and numbers are trimmed and stripped of control characters. The result is sorted
/// by name (case-insensitively), then number, so the output does not depend on storage
/// order; at most [`MAX_ENTRIES`] are kept.
pub fn merge_contacts<'a>(lists: impl IntoIterator<Item = &'a [Contact]>) -> Vec<Contact> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for list in lists {
        for c in list {
            let number = clean(&c.number);
            let key: String = number
                .chars()
                .filter(|ch| ch.is_ascii_digit() || matches!(ch, '+' | '*' | '#'))
                .collect();
            if key.is_empty() || !seen.insert(key) {
                continue;
            }
            let name = clean(&c.name);
            let name = if name.is_empty() {
                number.clone()
            } else {
                name
            };
            out.push(Contact { name, number });
        }
    }
    // Lowercasing once per entry, not once per comparison.
    out.sort_by_cached_key(|c| (c.name.to_lowercase(), c.name.clone(), c.number.clone()));
    out.truncate(MAX_ENTRIES);
    out
}

fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

/// Writes `contacts` as `vendor`'s remote phonebook.
pub fn render_phonebook(vendor: Vendor, title: &str, contacts: &[Contact]) -> Result<String> {
    let m = vendor.module()?;
    let mut out = String::with_capacity(128 + contacts.len() * 96);
    m.write_phonebook(title, contacts, &mut out);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn c(name: &str, number: &str) -> Contact {
        Contact {
            name: name.into(),
            number: number.into(),
        }
    }

    #[test]
    fn merge_dedupes_by_number_with_priority_and_sorts() {
        let users = [c("Irina", "204"), c("bob", "205"), c("", "206")];
        let other = [
            c("Irina (other PBX)", "204"),
            c("Alice", "3001"),
            c("nobody", " "),
            c("Bob\nB", "3002"),
        ];
        let out = merge_contacts([&users[..], &other[..]]);
        let names: Vec<_> = out
            .iter()
            .map(|c| (c.name.as_str(), c.number.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("206", "206"),
                ("Alice", "3001"),
                ("bob", "205"),
                ("Bob B", "3002"),
                ("Irina", "204")
            ]
        );
        // Same input in another storage order gives the same phonebook.
        let again = merge_contacts([&users[..], &other[..]]);
        assert_eq!(out, again);
    }
}
