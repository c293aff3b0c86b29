//! Credential strength: how guessable a SIP password or a voicemail PIN is, for the admin's
//! "credential strength" badge. (Not the admin audit log, which the edge keeps.)
//!
//! Weak SIP credentials are the first cause of toll fraud: scanners try extension numbers,
//! common passwords and patterns against every SIP server they find, at thousands of
//! attempts a minute. The check looks for exactly those guesses and says, in words a person
//! understands, what it found. It never repeats the credential: every message is a fixed
//! text, so an [`StrengthReport`] is safe to log, store and show.
//!
//! # Findings
//!
//! For a **SIP password**: shorter than 12 characters; digits only; equal to or
//! containing the extension (containing only counts for extensions of 3 characters or
//! more, since a 1- or 2-digit extension appears in many random passwords by chance); a
//! run of 4 or more (`1234`, `abcd`, `4321`, `2468`, `7890`); one character 3 or more times
//! in a row; a block repeated right after itself over 6 or more characters (`abcabc`,
//! `ababab`), or the whole password one repeated block; a keyboard walk of 4 or more keys
//! (`qwer`, `asdf`, `1qaz2wsx`, `!@#$`, keypad `2580`); one of the most common passwords;
//! too few different characters (fewer than 5, or fewer than a third of the length).
//!
//! Common passwords are matched case-insensitively against an embedded list of about 500
//! breach favourites and VoIP defaults, as typed, with leading and trailing digits and
//! punctuation removed (`Password2024!` is `password`), and with common letter
//! substitutions undone (`P@ssw0rd` is `password`: `@`/`4`→a, `3`→e, `0`→o, `1`/`!`→i,
//! `$`/`5`→s, `7`→t).
//!
//! For a **PIN**, which is digits by nature: fewer than 4 digits (weak), fewer than 6
//! (at best fair), non-digits (most voicemail systems accept digits only), the extension,
//! runs, repeats and keypad walks as above, a block repeated over 4 or more digits
//! (`4747`), too few different digits (2 or fewer, or fewer than a third of the length),
//! one of the most common PINs, and a value that could be a year (1900–2099) or a date:
//! `MMDD` or `DDMM` for 4 digits, `MMDDYY` or `DDMMYY` for 6, and those with a 4-digit year
//! or `YYYYMMDD` for 8. People pick birthdays and birth years, and those are guessed early;
//! the check says "could be", because many random PINs look like dates too.
//!
//! # Score
//!
//! The score estimates how many guesses an attacker needs, deterministically and with
//! integer arithmetic only (so every platform gives the same number):
//!
//! 1. Every character covered by a finding's pattern (run, repeat, the copies of a
//!    repeated block, keyboard walk, the extension) is predictable: each stretch of such characters counts as **one**
//!    character, every other character as one. That is the *effective length*. A
//!    credential that is one repeated unit counts as at most the unit's length; with too
//!    few different characters, the alphabet is that number of characters (a PIN counts
//!    as at most one more digit than it has different digits).
//! 2. *Password*: bits = effective length × log2(alphabet), where the alphabet is the sum
//!    of the classes used (lowercase 26, uppercase 26, digits 10, ASCII punctuation and
//!    space 33, anything else 64). Score = bits × 100 / 80, at most 100 (80 bits is as
//!    good as it needs to be for an online guess).
//! 3. *PIN*: score = effective digits × 12.5, at most 100 (8 unpredictable digits); a PIN
//!    that could be a date counts as 2 digits fewer (3 for 8 digits).
//! 4. Caps: empty scores 0; equal to the extension or a common password or PIN scores at
//!    most 10; a password shorter than 8 characters, a PIN shorter than 4 digits, or a
//!    password of fewer than 5 different characters at most 39; any other finding at most
//!    69, so **Strong needs no findings at all**.
//!
//! Strength: **Weak** below 40, **Fair** from 40 to 69, **Strong** from 70.

use std::collections::BTreeSet;
use std::fmt;

use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::vendors::Vendor;

/// Minimum length of a password without the "too short" finding.
const MIN_PASSWORD_CHARS: usize = 12;
/// Passwords shorter than this are Weak whatever else they are.
const WEAK_PASSWORD_BELOW: usize = 8;
/// PINs shorter than this are Weak.
const MIN_PIN_DIGITS: usize = 4;
/// PINs shorter than this are at best Fair.
const GOOD_PIN_DIGITS: usize = 6;
/// Shortest extension that counts as "contained": shorter ones occur by chance.
const MIN_CONTAINED_EXTENSION: usize = 3;
/// Length from which a run or a keyboard walk is a finding.
const PATTERN_LEN: usize = 4;
/// Shortest stretch of repeated blocks that is a finding inside a password (`abcabc`,
/// `ababab`); shorter doublings are everywhere in ordinary words.
const PASSWORD_BLOCK_SPAN: usize = 6;
/// The same for PINs, where `4747` is a classic choice.
const PIN_BLOCK_SPAN: usize = 4;
/// Length from which one character in a row is a finding.
const REPEAT_LEN: usize = 3;
/// Only this many characters are analysed for patterns; anything longer is scored on its
/// length beyond them, which bounds the work on hostile input.
const MAX_ANALYSED: usize = 256;
/// Score caps (see the module docs).
const CAP_FATAL: u8 = 10;
const CAP_WEAK: u8 = 39;
const CAP_FAIR: u8 = 69;
/// Lowest score of each strength.
const FAIR_FROM: u8 = 40;
const STRONG_FROM: u8 = 70;

/// How hard a credential is to guess.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strength {
    /// Among the first guesses of an attacker: change it.
    Weak,
    /// Not among the obvious guesses, but short or patterned.
    Fair,
    /// No finding and enough unpredictable characters.
    Strong,
}

/// The strength of a password or PIN: strength, a 0–100 score and the reasons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StrengthReport {
    /// The overall verdict, derived from the score.
    pub strength: Strength,
    /// 0 (trivial) to 100 (excellent); see the module docs for the rule.
    pub score: u8,
    /// What makes the credential guessable, in a fixed order; empty when nothing was found.
    pub findings: Vec<Finding>,
}

/// One reason a credential is guessable. Serialized as `{"code": ..., "message": ...}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Finding {
    /// Nothing was entered.
    Empty,
    /// A password shorter than 12 characters.
    TooShort,
    /// A PIN shorter than 4 digits.
    PinTooShort,
    /// A PIN of 4 or 5 digits.
    PinShort,
    /// A PIN with characters other than digits.
    NonDigits,
    /// A password made only of digits.
    DigitsOnly,
    /// The credential is the extension number.
    EqualsExtension,
    /// The credential contains the extension number.
    ContainsExtension,
    /// A run such as `1234`, `abcd`, `4321` or `2468`.
    Sequence,
    /// One character three or more times in a row.
    Repeated,
    /// A block written twice in a row, such as `1212` or `abcabc`.
    RepeatedPattern,
    /// A keyboard or keypad walk such as `qwerty`, `1qaz` or `2580`.
    KeyboardPattern,
    /// One of the most common passwords (possibly with digits or substitutions).
    CommonPassword,
    /// One of the most common PINs.
    CommonPin,
    /// Few different characters.
    FewDistinct,
    /// A PIN that could be a year or a date.
    DateLike,
}

impl Finding {
    /// Every finding, in the order reports list them.
    pub const ALL: [Self; 16] = [
        Self::Empty,
        Self::TooShort,
        Self::PinTooShort,
        Self::PinShort,
        Self::NonDigits,
        Self::DigitsOnly,
        Self::EqualsExtension,
        Self::ContainsExtension,
        Self::Sequence,
        Self::Repeated,
        Self::RepeatedPattern,
        Self::KeyboardPattern,
        Self::CommonPassword,
        Self::CommonPin,
        Self::FewDistinct,
        Self::DateLike,
    ];

    /// A stable snake_case identifier, for storage and translations.
    pub fn code(self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::TooShort => "too_short",
            Self::PinTooShort => "pin_too_short",
            Self::PinShort => "pin_short",
            Self::NonDigits => "non_digits",
            Self::DigitsOnly => "digits_only",
            Self::EqualsExtension => "equals_extension",
            Self::ContainsExtension => "contains_extension",
            Self::Sequence => "sequence",
            Self::Repeated => "repeated",
            Self::RepeatedPattern => "repeated_pattern",
            Self::KeyboardPattern => "keyboard_pattern",
            Self::CommonPassword => "common_password",
            Self::CommonPin => "common_pin",
            Self::FewDistinct => "few_distinct",
            Self::DateLike => "date_like",
        }
    }

    /// The finding from its [`Finding::code`].
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.code() == code)
    }

    /// The reason in words a person understands; never contains the credential.
    pub fn message(self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::TooShort => "shorter than 12 characters",
            Self::PinTooShort => "shorter than 4 digits",
            Self::PinShort => "shorter than 6 digits",
            Self::NonDigits => "contains non-digits; most voicemail systems accept digits only",
            Self::DigitsOnly => "digits only",
            Self::EqualsExtension => "equals the extension number",
            Self::ContainsExtension => "contains the extension number",
            Self::Sequence => "a run such as 1234 or abcd",
            Self::Repeated => "one character repeated",
            Self::RepeatedPattern => "a repeated pattern such as 1212 or abcabc",
            Self::KeyboardPattern => "a keyboard pattern such as qwerty or 2580",
            Self::CommonPassword => "one of the most common passwords",
            Self::CommonPin => "one of the most common PINs",
            Self::FewDistinct => "too few different characters",
            Self::DateLike => "could be a year or a date, such as a birthday",
        }
    }

    /// `true` for findings that make a credential one of the very first guesses.
    fn is_fatal(self) -> bool {
        matches!(
            self,
            Self::Empty | Self::EqualsExtension | Self::CommonPassword | Self::CommonPin
        )
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl fmt::Display for Strength {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Weak => "weak",
            Self::Fair => "fair",
            Self::Strong => "strong",
        })
    }
}

impl Serialize for Finding {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Finding", 2)?;
        st.serialize_field("code", self.code())?;
        st.serialize_field("message", self.message())?;
        st.end()
    }
}

impl<'de> Deserialize<'de> for Finding {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        /// Only the code is read back; the message is derived from it.
        #[derive(Deserialize)]
        struct Repr {
            code: String,
        }
        let r = Repr::deserialize(d)?;
        Self::from_code(&r.code).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown credential finding {:?}",
                r.code.chars().take(40).collect::<String>()
            ))
        })
    }
}

impl StrengthReport {
    fn from_findings(mut findings: Vec<Finding>, mut score: u8) -> Self {
        findings.sort_unstable();
        findings.dedup();
        // Caps, strongest first; see the module docs.
        if findings.contains(&Finding::Empty) {
            score = 0;
        } else if findings.iter().any(|f| f.is_fatal()) {
            score = score.min(CAP_FATAL);
        } else if !findings.is_empty() {
            score = score.min(CAP_FAIR);
        }
        let strength = if score >= STRONG_FROM {
            Strength::Strong
        } else if score >= FAIR_FROM {
            Strength::Fair
        } else {
            Strength::Weak
        };
        Self {
            strength,
            score,
            findings,
        }
    }
}

/// Audits a SIP password for the phone with `extension` (the user part it registers with).
pub fn sip_password_strength(password: &str, extension: &str) -> StrengthReport {
    if password.is_empty() {
        return StrengthReport::from_findings(vec![Finding::Empty], 0);
    }
    let total = password.chars().count();
    let original: Vec<char> = password.chars().take(MAX_ANALYSED).collect();
    let chars: Vec<char> = original.iter().map(char::to_ascii_lowercase).collect();
    let mut findings = Vec::new();
    let mut marks = vec![false; chars.len()];

    if total < MIN_PASSWORD_CHARS {
        findings.push(Finding::TooShort);
    }
    if password.bytes().all(|b| b.is_ascii_digit()) {
        findings.push(Finding::DigitsOnly);
    }
    check_extension(password, &chars, extension, &mut marks, &mut findings);
    mark_patterns(&chars, PASSWORD_BLOCK_SPAN, &mut marks, &mut findings);
    let period = check_period(&chars, &mut findings);
    let distinct = original.iter().collect::<BTreeSet<_>>().len();
    let few_distinct = total >= 6 && (distinct < 5 || distinct * 3 < total);
    if few_distinct {
        findings.push(Finding::FewDistinct);
    }
    if is_common_password(password) {
        findings.push(Finding::CommonPassword);
    }

    let mut eff = effective_len(&marks) + total.saturating_sub(MAX_ANALYSED);
    if let Some(p) = period {
        eff = eff.min(p);
    }
    let mut pool = alphabet_size(&original);
    if few_distinct {
        pool = pool.min(distinct.max(2));
    }
    let bits_x100 = (eff as u64).saturating_mul(log2_x100(pool as u64));
    let mut score = u8::try_from((bits_x100 / 80).min(100)).unwrap_or(100);
    // Very short, or so few different characters that a pattern-aware guesser
    // enumerates them quickly whatever the length.
    if total < WEAK_PASSWORD_BELOW || (few_distinct && distinct < 5) {
        score = score.min(CAP_WEAK);
    }
    StrengthReport::from_findings(findings, score)
}

/// Audits a voicemail (or phone-lock) PIN for the phone with `extension`.
pub fn pin_strength(pin: &str, extension: &str) -> StrengthReport {
    if pin.is_empty() {
        return StrengthReport::from_findings(vec![Finding::Empty], 0);
    }
    let total = pin.chars().count();
    let chars: Vec<char> = pin
        .chars()
        .take(MAX_ANALYSED)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let all_digits = pin.bytes().all(|b| b.is_ascii_digit());
    let mut findings = Vec::new();
    let mut marks = vec![false; chars.len()];

    if !all_digits {
        findings.push(Finding::NonDigits);
    }
    if total < MIN_PIN_DIGITS {
        findings.push(Finding::PinTooShort);
    } else if total < GOOD_PIN_DIGITS {
        findings.push(Finding::PinShort);
    }
    check_extension(pin, &chars, extension, &mut marks, &mut findings);
    mark_patterns(&chars, PIN_BLOCK_SPAN, &mut marks, &mut findings);
    let period = check_period(&chars, &mut findings);
    let distinct = chars.iter().collect::<BTreeSet<_>>().len();
    let few_distinct = total >= MIN_PIN_DIGITS && (distinct <= 2 || distinct * 3 < total);
    if few_distinct {
        findings.push(Finding::FewDistinct);
    }
    if all_digits && COMMON_PINS.contains(&pin) {
        findings.push(Finding::CommonPin);
    }
    let date_discount = if all_digits { date_like(pin) } else { None };
    if date_discount.is_some() {
        findings.push(Finding::DateLike);
    }

    let mut eff = effective_len(&marks) + total.saturating_sub(MAX_ANALYSED);
    if let Some(p) = period {
        eff = eff.min(p);
    }
    if few_distinct {
        eff = eff.min(distinct + 1);
    }
    if let Some(d) = date_discount {
        eff = eff.min(total.saturating_sub(d));
    }
    // 12.5 points per unpredictable digit: 4 digits = 50 (fair), 6 = 75 (strong).
    let score = u8::try_from((eff.saturating_mul(125) / 10).min(100)).unwrap_or(100);
    let score = if total < MIN_PIN_DIGITS {
        score.min(CAP_WEAK)
    } else {
        score
    };
    StrengthReport::from_findings(findings, score)
}

/// Equality with, or containment of, the extension. Marks contained occurrences.
fn check_extension(
    secret: &str,
    chars: &[char],
    extension: &str,
    marks: &mut [bool],
    findings: &mut Vec<Finding>,
) {
    let ext = extension.trim();
    if ext.is_empty() {
        return;
    }
    if secret.eq_ignore_ascii_case(ext) {
        findings.push(Finding::EqualsExtension);
        mark(marks, 0, chars.len());
        return;
    }
    let ext: Vec<char> = ext.chars().map(|c| c.to_ascii_lowercase()).collect();
    if ext.len() < MIN_CONTAINED_EXTENSION {
        return;
    }
    let mut found = false;
    for (i, w) in chars.windows(ext.len()).enumerate() {
        if w == ext.as_slice() {
            found = true;
            mark(marks, i, ext.len());
        }
    }
    if found {
        findings.push(Finding::ContainsExtension);
    }
}

/// Runs, repeats, repeated blocks and keyboard walks: each adds its finding and marks
/// its predictable characters.
fn mark_patterns(chars: &[char], min_span: usize, marks: &mut [bool], findings: &mut Vec<Finding>) {
    for (i, w) in chars.windows(PATTERN_LEN).enumerate() {
        if is_run(w) {
            findings.push(Finding::Sequence);
            mark(marks, i, PATTERN_LEN);
        }
        if is_keyboard_walk(w) {
            findings.push(Finding::KeyboardPattern);
            mark(marks, i, PATTERN_LEN);
        }
    }
    for (i, w) in chars.windows(REPEAT_LEN).enumerate() {
        if w.iter().all(|c| Some(c) == w.first()) {
            findings.push(Finding::Repeated);
            mark(marks, i, REPEAT_LEN);
        }
    }
    // A block of two or more characters written again right after itself (`abcabc`,
    // `4747`): the copies add nothing to guess. Blocks of one character are the repeats
    // above. The copies must span `min_span` characters: words are full of short
    // doublings (`isis` in "this is", `anan` in "banana") that no guesser exploits.
    for p in 2..=chars.len() / 2 {
        let copies = min_span.div_ceil(p).max(2);
        for i in 0..chars.len().saturating_sub(copies * p - 1) {
            let Some(unit) = chars.get(i..i + p) else {
                continue;
            };
            if unit.iter().all(|c| Some(c) == unit.first()) {
                continue;
            }
            let repeated = (1..copies).all(|k| chars.get(i + k * p..i + (k + 1) * p) == Some(unit));
            if repeated {
                findings.push(Finding::RepeatedPattern);
                mark(marks, i + p, (copies - 1) * p);
            }
        }
    }
}

/// The smallest unit the whole credential repeats (at least twice), adding a finding:
/// a unit of one character is "one character repeated", a longer one a repeated pattern.
fn check_period(chars: &[char], findings: &mut Vec<Finding>) -> Option<usize> {
    let n = chars.len();
    if n < PATTERN_LEN {
        return None;
    }
    // `chars` has period p when every character equals the one p places before it; the
    // unit need not divide the length (`abcabca` is `abc` repeated and cut short).
    let p = (1..=n / 2).find(|&p| chars.get(p..) == chars.get(..n - p))?;
    findings.push(if p == 1 {
        Finding::Repeated
    } else {
        Finding::RepeatedPattern
    });
    Some(p)
}

/// Four characters in a row with the same step: ±1 for letters, ±1 or ±2 for digits, and
/// `9` followed by `0` counting as +1 (as on the keyboard's number row).
fn is_run(w: &[char]) -> bool {
    let mut steps = w.windows(2).map(|pair| match pair {
        [a, b] => step(*a, *b),
        _ => None,
    });
    let Some(Some(first)) = steps.next() else {
        return false;
    };
    steps.all(|s| s == Some(first))
}

fn step(a: char, b: char) -> Option<i32> {
    let d = b as i32 - a as i32;
    if a.is_ascii_digit() && b.is_ascii_digit() {
        match d {
            1 | -9 => Some(1),
            -1 | 9 => Some(-1),
            2 | -2 => Some(d),
            _ => None,
        }
    } else if a.is_ascii_lowercase() && b.is_ascii_lowercase() && (d == 1 || d == -1) {
        Some(d)
    } else {
        None
    }
}

/// Keyboard and keypad walks, lowercase; every 4-key stretch of each, forwards or
/// backwards, is a walk. The plain number row is left to [`is_run`].
const KEYBOARD_WALKS: &[&str] = &[
    "qwertyuiop[]\\",
    "asdfghjkl;'",
    "zxcvbnm,./",
    "qwertzuiop",
    "yxcvbnm",
    "azertyuiop",
    "qsdfghjklm",
    "wxcvbn",
    "!@#$%^&*()_+",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/",
    "zaq12wsxcde34rfvbgt56yhnmju78ik,.lo90p;/",
    "qazwsxedcrfvtgbyhnujmikolp",
    "!qaz@wsx#edc$rfv%tgb",
    "1q2w3e4r5t6y7u8i9o0p",
    "q1w2e3r4t5y6u7i8o9p0",
    "a1s2d3f4g5h6",
    "qweasdzxc",
    // The phone keypad: columns 1-4-7, 2-5-8-0, 3-6-9 and rows walked in a snake.
    "147258369",
    "741852963",
    "789456123",
    "123654789",
    "2580",
];

fn is_keyboard_walk(w: &[char]) -> bool {
    let s: String = w.iter().collect();
    let r: String = w.iter().rev().collect();
    KEYBOARD_WALKS
        .iter()
        .any(|walk| walk.contains(s.as_str()) || walk.contains(r.as_str()))
}

fn mark(marks: &mut [bool], start: usize, len: usize) {
    for m in marks.iter_mut().skip(start).take(len) {
        *m = true;
    }
}

/// Unmarked characters count one each; each stretch of marked characters counts one.
fn effective_len(marks: &[bool]) -> usize {
    let mut eff = 0;
    let mut prev = false;
    for &m in marks {
        if !m || !prev {
            eff += 1;
        }
        prev = m;
    }
    eff
}

/// The size of the alphabet the characters are drawn from, by class.
fn alphabet_size(chars: &[char]) -> usize {
    let has = |f: fn(&char) -> bool| chars.iter().any(f);
    let mut n = 0;
    if has(char::is_ascii_lowercase) {
        n += 26;
    }
    if has(char::is_ascii_uppercase) {
        n += 26;
    }
    if has(char::is_ascii_digit) {
        n += 10;
    }
    if has(|c| c.is_ascii_punctuation() || *c == ' ') {
        n += 33;
    }
    if has(|c| !c.is_ascii_alphanumeric() && !c.is_ascii_punctuation() && *c != ' ') {
        n += 64;
    }
    n.max(1)
}

/// 100 × log2(n), rounded down, for n ≥ 1, in integer arithmetic (so it is the same on
/// every platform): the integer part from the highest set bit, ten fraction bits by
/// repeated squaring of the mantissa.
fn log2_x100(n: u64) -> u64 {
    if n == 0 {
        return 0;
    }
    let int = n.ilog2();
    // Keep the value small enough that the squaring below cannot overflow.
    if int >= 40 {
        return u64::from(int) * 100;
    }
    // The mantissa n / 2^int, in [1, 2), as a Q16 fixed-point number.
    let mut x = (n << 16) >> int;
    let mut frac = 0u64;
    for bit in (0..10).rev() {
        x = (x * x) >> 16;
        if x >= 2 << 16 {
            x >>= 1;
            frac |= 1 << bit;
        }
    }
    u64::from(int) * 100 + frac * 100 / 1024
}

/// `true` if the password, as typed or normalised (see the module docs), is on the list.
fn is_common_password(password: &str) -> bool {
    // No listed password is anywhere near this long; skip the work on huge input.
    if password.len() > 64 {
        return false;
    }
    let lower = password.to_lowercase();
    let strip = |s: &str| -> String {
        s.trim_matches(|c: char| c.is_ascii_digit() || c.is_ascii_punctuation() || c == ' ')
            .to_owned()
    };
    let stripped = strip(&lower);
    let leet_lower = unleet(&lower);
    let candidates = [
        lower.clone(),
        stripped.clone(),
        leet_lower.clone(),
        unleet(&stripped),
        strip(&leet_lower),
    ];
    candidates.iter().enumerate().any(|(i, c)| {
        // Only the password as typed may match a very short entry; a normalised variant
        // must keep 3 characters, or decorations around a fragment would count as common.
        (i == 0 || c.chars().count() >= 3)
            && (COMMON_PASSWORDS.contains(&c.as_str())
                || Vendor::ALL.iter().any(|v| v.as_str() == c.as_str()))
    })
}

/// Undoes the usual letter substitutions (`p@ssw0rd` → `password`).
fn unleet(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '@' | '4' => 'a',
            '3' => 'e',
            '0' => 'o',
            '1' | '!' => 'i',
            '$' | '5' => 's',
            '7' => 't',
            other => other,
        })
        .collect()
}

/// How many digits a PIN that could be a date is worth less, or `None` if it cannot be
/// one (see the module docs for the shapes).
fn date_like(pin: &str) -> Option<usize> {
    let d: Vec<u32> = pin.chars().filter_map(|c| c.to_digit(10)).collect();
    let num = |s: &[u32]| s.iter().fold(0u32, |acc, &x| acc * 10 + x);
    let year = |s: &[u32]| (1900..=2099).contains(&num(s));
    let md = |m: &[u32], dd: &[u32]| is_month_day(num(m), num(dd));
    match d.as_slice() {
        [a, b, c, e] => {
            let (x, y) = ([*a, *b], [*c, *e]);
            (year(&[*a, *b, *c, *e]) || md(&x, &y) || md(&y, &x)).then_some(2)
        }
        [a, b, c, e, _, _] => {
            let (x, y) = ([*a, *b], [*c, *e]);
            (md(&x, &y) || md(&y, &x)).then_some(2)
        }
        [a, b, c, e, f, g, h, i] => {
            let (x, y) = ([*a, *b], [*c, *e]);
            let (z, w) = ([*f, *g], [*h, *i]);
            let date_then_year = (md(&x, &y) || md(&y, &x)) && year(&[*f, *g, *h, *i]);
            let year_then_date = year(&[*a, *b, *c, *e]) && md(&z, &w);
            (date_then_year || year_then_date).then_some(3)
        }
        _ => None,
    }
}

fn is_month_day(month: u32, day: u32) -> bool {
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 => 29,
        _ => return false,
    };
    (1..=days).contains(&day)
}

/// The most common 4- and 6-digit PINs (published analyses of leaked PIN sets) and the
/// defaults of PBX voicemail boxes.
#[rustfmt::skip]
const COMMON_PINS: &[&str] = &[
    "0000", "1111", "1234", "1212", "7777", "1004", "2000", "4444", "2222",
    "6969", "9999", "3333", "5555", "6666", "1122", "1313", "8888", "4321", "2001", "1010",
    "2580", "0852", "1230", "0123", "2468", "1357", "9876", "6789", "1000", "1001", "0001",
    "1100", "1985", "1990", "2020", "5683", "0007", "1235", "1233", "1123", "3232", "2323",
    "12345", "54321", "11111", "00000", "13579", "123456", "654321", "111111", "000000",
    "123123", "666666", "121212", "112233", "789456", "159753", "123321", "147258", "222222",
    "333333", "444444", "555555", "777777", "888888", "999999", "987654", "696969", "101010",
    "131313", "202020", "246810", "520520", "753951", "159357", "147852", "258369", "369258",
    "123654", "456789", "100000", "000001", "098765", "012345", "1234567", "12345678",
    "87654321", "11111111", "00000000", "123456789",
];

/// The most common passwords in breach top-lists, plus VoIP and PBX defaults, lowercase.
/// The phone makers' own names count too, read from [`Vendor`] rather than listed here.
#[rustfmt::skip]
const COMMON_PASSWORDS: &[&str] = &[
    "123456", "password", "12345678", "qwerty", "123456789", "12345", "1234", "111111",
    "1234567", "dragon", "123123", "baseball", "abc123", "football", "monkey", "letmein",
    "696969", "shadow", "master", "666666", "qwertyuiop", "123321", "mustang", "1234567890",
    "michael", "654321", "superman", "1qaz2wsx", "7777777", "121212", "000000", "qazwsx",
    "123qwe", "killer", "trustno1", "jordan", "jennifer", "zxcvbnm", "asdfgh", "hunter",
    "buster", "soccer", "harley", "batman", "andrew", "tigger", "sunshine", "iloveyou", "2000",
    "charlie", "robert", "thomas", "hockey", "ranger", "daniel", "starwars", "klaster",
    "112233", "george", "computer", "michelle", "jessica", "pepper", "1111", "zxcvbn", "555555",
    "11111111", "131313", "freedom", "777777", "pass", "maggie", "159753", "aaaaaa", "ginger",
    "princess", "joshua", "cheese", "amanda", "summer", "love", "ashley", "nicole", "chelsea",
    "biteme", "matthew", "access", "yankees", "987654321", "dallas", "austin", "thunder",
    "taylor", "matrix", "william", "corvette", "hello", "martin", "heather", "secret", "merlin",
    "diamond", "1234qwer", "gfhjkm", "hammer", "silver", "222222", "88888888", "anthony",
    "justin", "test", "bailey", "q1w2e3r4t5", "patrick", "internet", "scooter", "orange",
    "11111", "golfer", "cookie", "richard", "samantha", "bigdog", "guitar", "jackson",
    "whatever", "mickey", "chicken", "sparky", "snoopy", "maverick", "phoenix", "camaro",
    "peanut", "morgan", "welcome", "falcon", "cowboy", "ferrari", "samsung", "andrea", "smokey",
    "steelers", "joseph", "mercedes", "dakota", "arsenal", "eagles", "melissa", "boomer",
    "booboo", "spider", "nascar", "monster", "tigers", "yellow", "xxxxxx", "123123123",
    "gateway", "marina", "diablo", "bulldog", "qwer1234", "compaq", "purple", "hardcore",
    "banana", "junior", "hannah", "123654", "porsche", "lakers", "iceman", "money", "cowboys",
    "987654", "london", "tennis", "999999", "ncc1701", "coffee", "scooby", "0000", "miller",
    "boston", "q1w2e3r4", "brandon", "yamaha", "chester", "mother", "forever", "johnny",
    "edward", "333333", "oliver", "redsox", "player", "nikita", "knight", "fender", "barney",
    "midnight", "please", "brandy", "chicago", "badboy", "slayer", "rangers", "charles",
    "angel", "flower", "rabbit", "wizard", "jasper", "enter", "rachel", "chris", "steven",
    "winner", "adidas", "victoria", "natasha", "1q2w3e4r", "jasmine", "winter", "prince",
    "marine", "ghbdtn", "fishing", "cocacola", "casper", "james", "232323", "raiders", "888888",
    "marlboro", "gandalf", "asdfasdf", "crystal", "87654321", "12344321", "golf", "heaven",
    "qwerty123", "1q2w3e", "123abc", "admin", "admin123", "administrator", "root", "toor",
    "user", "guest", "default", "changeme", "login", "passw0rd", "p@ssw0rd", "zaq12wsx",
    "qwe123", "1q2w3e4r5t", "123qweasd", "qweasd", "qweasdzxc", "asdf1234", "zaq1zaq1",
    "azerty", "azertyuiop", "qwertz", "qwertzuiop", "hallo", "passwort", "motdepasse",
    "contrasena", "senha", "parola", "wachtwoord", "losenord", "salasana", "haslo", "lozinka",
    "sifre", "voip", "sip", "asterisk", "freepbx", "3cx", "polycom", "cisco", "avaya", "alcatel", "phone", "telephone",
    "voicemail", "pbx", "ipbx", "trunk", "extension", "1000", "1001", "1002", "100", "101",
    "200", "000", "9999", "sipuser", "sippass", "siptest", "voiptest", "testing", "demo",
    "sample", "pass123", "password123", "admin1", "1111111", "phone123", "ipphone", "sipphone",
    "softphone", "provision", "provisioning", "support", "service", "manager", "operator",
    "reception", "office", "company", "secret123", "voip123", "sip123", "elastix", "issabel",
    "fusionpbx", "freeswitch", "kamailio", "opensips", "trixbox", "vicidial", "digium",
    "sangoma", "mitel", "test123", "testtest", "guest123", "user123", "root123", "pass1234",
    "password1", "welcome1", "letmein1", "changeme1", "qwerty1", "abcd1234", "abcdef", "a1b2c3",
    "a1b2c3d4", "aa123456", "123456a", "123456789a", "iloveyou1", "princess1", "football1",
    "monkey1", "dragon1", "loveme", "lovely", "5201314", "woaini", "520520", "zxc123", "asd123",
    "qaz123", "1234abcd", "11223344", "1122334455", "123456789012", "0987654321", "147258369",
    "159357", "789456", "789456123", "741852963", "123789", "147258", "258456", "456123",
    "102030", "112211", "1212", "4321", "6969", "2580", "7777", "5555", "3333", "2222", "4444",
    "6666", "8888", "1010", "0123", "01234", "012345", "0123456", "01234567", "012345678",
    "0123456789", "superstar", "starwars1", "pokemon", "minecraft", "naruto", "batman1",
    "spiderman", "ironman", "hulk", "thor", "loki", "zelda", "mario", "sonic", "yoda",
    "shadow1", "trustme", "whatever1", "nothing", "secret1", "private", "public", "hidden",
    "unknown", "blank", "empty", "none", "null", "nopass", "nopassword", "mypass", "mypassword",
    "yourpass", "password!", "qwerty!", "zaq1@wsx", "1qaz@wsx", "!qaz2wsx", "q2w3e4r5",
    "abc12345", "summer2023", "winter2023", "spring", "autumn", "fall", "january", "february",
    "march", "april", "june", "july", "august", "september", "october", "november", "december",
    "monday", "friday", "sunday", "killer1", "hello123", "hello1", "welcome123", "master1",
    "letmein123", "admin2", "administrator1", "adminadmin", "rootroot", "toortoor", "useruser",
    "passpass", "test1", "test12", "test1234", "demo123", "guest1", "temp", "temp123",
    "temporary", "changeit", "change", "newpass", "newpassword", "pass12", "pass1", "pa55word",
    "pa55w0rd", "passwd", "secret12", "supersecret", "topsecret", "access14", "starbucks",
    "google", "facebook", "linkedin", "twitter", "yahoo", "hotmail", "gmail", "apple",
    "microsoft", "windows", "linux", "ubuntu", "debian", "centos", "raspberry", "oracle",
    "mysql", "postgres",
];

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;
    use Finding::*;
    use Strength::*;

    /// (password, extension, strength, findings that must be present)
    const PASSWORDS: &[(&str, &str, Strength, &[Finding])] = &[
        ("", "1001", Weak, &[Empty]),
        ("Xy7#", "", Weak, &[TooShort]),
        ("Qm4!vZ8#kW", "", Fair, &[TooShort]),
        ("83920174", "", Weak, &[TooShort, DigitsOnly]),
        ("8302917465019283", "", Fair, &[DigitsOnly]),
        (
            "1001",
            "1001",
            Weak,
            &[EqualsExtension, DigitsOnly, CommonPassword],
        ),
        ("Alice", " alice ", Weak, &[EqualsExtension]),
        ("Zq8#1001vLm!pX", "1001", Fair, &[ContainsExtension]),
        ("Kv9#mQ2wabcdLz", "", Fair, &[Sequence]),
        ("Kv9#mQ2w7890Lz", "", Fair, &[Sequence]),
        ("Kv9#mQ2w8642Lz", "", Fair, &[Sequence]),
        ("Hx7!aaa#Pq4Lm2", "", Fair, &[Repeated]),
        ("Rt5%qwerty!Lp8Z", "", Fair, &[KeyboardPattern]),
        ("Rt5%1qaz2wsx!Lp8Z", "", Fair, &[KeyboardPattern]),
        ("abcabcabcabc", "", Weak, &[RepeatedPattern, FewDistinct]),
        ("xK9#mabcabcabc", "", Fair, &[RepeatedPattern]),
        (
            "Tk8!Tk8!Tk8!Tk8!",
            "",
            Weak,
            &[RepeatedPattern, FewDistinct],
        ),
        ("zzzzzzzzzzzzzzzz", "", Weak, &[Repeated, FewDistinct]),
        ("a1a1a1a1b2b2b2b2", "", Weak, &[FewDistinct]),
        (
            "123456",
            "",
            Weak,
            &[CommonPassword, Sequence, DigitsOnly, TooShort],
        ),
        ("password", "", Weak, &[CommonPassword]),
        ("PASSWORD", "", Weak, &[CommonPassword]),
        ("Password2024!", "", Weak, &[CommonPassword]),
        ("P@ssw0rd", "", Weak, &[CommonPassword]),
        ("!!Dragon99", "", Weak, &[CommonPassword]),
        ("asterisk", "", Weak, &[CommonPassword]),
        ("Changeme", "", Weak, &[CommonPassword]),
        ("voip123", "", Weak, &[CommonPassword]),
        ("1000", "", Weak, &[CommonPassword]),
        ("qwerty", "", Weak, &[CommonPassword, KeyboardPattern]),
        ("v7#Qm2!xR9&kLp4z", "1001", Strong, &[]),
        ("correct horse battery staple", "1001", Strong, &[]),
        ("Gq3vX9tLm2Rw8kZp", "", Strong, &[]),
    ];

    /// (PIN, extension, strength, findings that must be present)
    const PINS: &[(&str, &str, Strength, &[Finding])] = &[
        ("", "1001", Weak, &[Empty]),
        ("12", "", Weak, &[PinTooShort]),
        ("947", "", Weak, &[PinTooShort]),
        ("8305", "", Fair, &[PinShort]),
        ("58203", "", Fair, &[PinShort]),
        ("739164", "", Strong, &[]),
        ("93708162", "1001", Strong, &[]),
        ("8a3b6c", "", Fair, &[NonDigits]),
        ("1001", "1001", Weak, &[EqualsExtension]),
        ("730018", "300", Fair, &[ContainsExtension]),
        ("1234", "", Weak, &[Sequence, CommonPin]),
        ("4321", "", Weak, &[Sequence, CommonPin]),
        ("13579", "", Weak, &[Sequence, CommonPin]),
        ("907531", "", Weak, &[Sequence]),
        ("7890", "", Weak, &[Sequence]),
        ("1111", "", Weak, &[Repeated, CommonPin, FewDistinct]),
        ("381117", "", Fair, &[Repeated]),
        ("1212", "", Weak, &[RepeatedPattern, CommonPin]),
        ("472472", "", Weak, &[RepeatedPattern]),
        ("2580", "", Weak, &[KeyboardPattern, CommonPin]),
        ("963852", "", Weak, &[KeyboardPattern]),
        ("0000", "", Weak, &[CommonPin]),
        ("123456", "", Weak, &[CommonPin, Sequence]),
        ("949499", "", Weak, &[FewDistinct]),
        ("1985", "", Weak, &[DateLike]),
        ("0714", "", Weak, &[DateLike]),
        ("250399", "", Fair, &[DateLike]),
        ("071419", "", Fair, &[DateLike]),
        ("19850714", "", Fair, &[DateLike]),
        ("14071985", "", Fair, &[DateLike]),
    ];

    fn check(kind: &str, audit: StrengthReport, input: &str, strength: Strength, want: &[Finding]) {
        assert_eq!(audit.strength, strength, "{kind} {input:?}: {audit:?}");
        for f in want {
            assert!(
                audit.findings.contains(f),
                "{kind} {input:?}: missing {f:?} in {audit:?}"
            );
        }
        if want.is_empty() {
            assert!(audit.findings.is_empty(), "{kind} {input:?}: {audit:?}");
        }
        assert!(audit.score <= 100);
        let expected_strength = match audit.score {
            0..=39 => Weak,
            40..=69 => Fair,
            _ => Strong,
        };
        assert_eq!(
            audit.strength, expected_strength,
            "{kind} {input:?}: {audit:?}"
        );
        if !audit.findings.is_empty() {
            assert_ne!(audit.strength, Strong, "{kind} {input:?}: {audit:?}");
        }
        // Sorted and without duplicates.
        assert!(audit
            .findings
            .windows(2)
            .all(|w| matches!(w, [a, b] if a < b)));
    }

    #[test]
    fn password_table() {
        for &(pw, ext, strength, want) in PASSWORDS {
            check(
                "password",
                sip_password_strength(pw, ext),
                pw,
                strength,
                want,
            );
        }
    }

    #[test]
    fn pin_table() {
        for &(pin, ext, strength, want) in PINS {
            check("pin", pin_strength(pin, ext), pin, strength, want);
        }
    }

    #[test]
    fn the_tables_cover_every_finding() {
        let covered: BTreeSet<Finding> = PASSWORDS
            .iter()
            .chain(PINS)
            .flat_map(|(_, _, _, f)| f.iter().copied())
            .collect();
        for f in Finding::ALL {
            assert!(covered.contains(&f), "no test case for {f:?}");
        }
    }

    #[test]
    fn random_looking_password_is_strong_and_clean() {
        let a = sip_password_strength("v7#Qm2!xR9&kLp4z", "1001");
        assert_eq!(a.strength, Strong);
        assert!(a.findings.is_empty());
        assert!(a.score >= 90, "{a:?}");
    }

    #[test]
    fn short_passwords_are_weak_whatever_their_characters() {
        let a = sip_password_strength("Q!z8vK", "");
        assert_eq!(a.strength, Weak, "{a:?}");
    }

    #[test]
    fn short_extensions_are_not_searched_inside() {
        // "12" occurs in the password, but a 2-digit extension occurs in many passwords.
        let a = sip_password_strength("Gq3vX9tLm2Rw8kZp12", "12");
        assert!(!a.findings.contains(&ContainsExtension), "{a:?}");
        assert_eq!(a.strength, Strong);
    }

    #[test]
    fn findings_never_echo_the_credential() {
        for (pw, ext) in [
            ("Zq8#1001vLm!pX", "1001"),
            ("Password2024!", ""),
            ("Rt5%qwerty!Lp8Z", ""),
            ("v7#Qm2!xR9&kLp4z", ""),
        ] {
            let a = sip_password_strength(pw, ext);
            let shown = format!(
                "{a:?} {} {}",
                serde_json::to_string(&a).unwrap(),
                a.findings
                    .iter()
                    .map(ToString::to_string)
                    .collect::<String>()
            );
            assert!(!shown.contains(pw), "{shown}");
        }
        let a = pin_strength("739164", "");
        assert!(!serde_json::to_string(&a).unwrap().contains("739164"));
    }

    #[test]
    fn serde_shape_and_round_trip() {
        let a = sip_password_strength("1001", "1001");
        let json = serde_json::to_value(&a).unwrap();
        assert_eq!(json["strength"], "weak");
        assert_eq!(json["findings"][0]["code"], "too_short");
        assert_eq!(json["findings"][0]["message"], "shorter than 12 characters");
        let back: StrengthReport = serde_json::from_value(json).unwrap();
        assert_eq!(back, a);
        // The code alone is enough to read a finding back.
        let f: Finding = serde_json::from_str(r#"{"code":"sequence"}"#).unwrap();
        assert_eq!(f, Sequence);
        assert!(serde_json::from_str::<Finding>(r#"{"code":"nope"}"#).is_err());
    }

    #[test]
    fn codes_and_messages_are_unique() {
        let codes: BTreeSet<_> = Finding::ALL.iter().map(|f| f.code()).collect();
        let messages: BTreeSet<_> = Finding::ALL.iter().map(|f| f.message()).collect();
        assert_eq!(codes.len(), Finding::ALL.len());
        assert_eq!(messages.len(), Finding::ALL.len());
        for f in Finding::ALL {
            assert_eq!(Finding::from_code(f.code()), Some(f));
            assert_eq!(f.to_string(), f.message());
        }
        assert_eq!(TooShort.message(), "shorter than 12 characters");
        assert_eq!(
            NonDigits.message(),
            "contains non-digits; most voicemail systems accept digits only"
        );
    }

    #[test]
    fn a_phone_makers_name_is_a_common_password() {
        for pw in ["yealink", "Grandstream!", "h73k", "SNOM2024", "fanvil"] {
            let a = sip_password_strength(pw, "201");
            assert!(a.findings.contains(&Finding::CommonPassword), "{pw}: {a:?}");
        }
        let a = sip_password_strength("yealinkish-horse-battery", "201");
        assert!(!a.findings.contains(&Finding::CommonPassword), "{a:?}");
    }

    #[test]
    fn lists_are_lowercase_and_unique() {
        let set: BTreeSet<_> = COMMON_PASSWORDS.iter().collect();
        assert_eq!(
            set.len(),
            COMMON_PASSWORDS.len(),
            "duplicate common password"
        );
        assert!(COMMON_PASSWORDS.len() >= 300);
        for p in COMMON_PASSWORDS {
            assert_eq!(p.to_lowercase(), *p);
            assert!(!p.is_empty());
        }
        let pins: BTreeSet<_> = COMMON_PINS.iter().collect();
        assert_eq!(pins.len(), COMMON_PINS.len(), "duplicate common PIN");
        assert!(COMMON_PINS
            .iter()
            .all(|p| p.bytes().all(|b| b.is_ascii_digit())));
    }

    #[test]
    fn log2_is_accurate_enough() {
        for (n, want) in [
            (1, 0),
            (2, 100),
            (10, 332),
            (26, 470),
            (62, 595),
            (95, 656),
            (159, 731),
        ] {
            let got = log2_x100(n);
            assert!(got.abs_diff(want) <= 1, "log2({n}) = {got}, want {want}");
        }
        assert_eq!(log2_x100(0), 0);
        assert!(log2_x100(u64::MAX) >= 6300);
    }

    #[test]
    fn scores_are_deterministic_and_ordered() {
        assert_eq!(
            sip_password_strength("Gq3vX9tLm2Rw8kZp", ""),
            sip_password_strength("Gq3vX9tLm2Rw8kZp", "")
        );
        // Longer unpredictable passwords never score lower.
        let s8 = sip_password_strength("Gq3vX9tL", "").score;
        let s12 = sip_password_strength("Gq3vX9tLm2Rw", "").score;
        let s16 = sip_password_strength("Gq3vX9tLm2Rw8kZp", "").score;
        assert!(s8 <= s12 && s12 <= s16, "{s8} {s12} {s16}");
        // PIN lengths: 4-5 fair, 6+ strong.
        assert_eq!(pin_strength("8305", "").score, 50);
        assert_eq!(pin_strength("739164", "").score, 75);
    }

    #[test]
    fn hostile_input_does_not_panic() {
        let long = "x\u{1F600}9".repeat(10_000);
        for s in [
            "\u{0}",
            "é",
            "İİİİİİİİ",
            "\u{1F600}\u{1F600}\u{1F600}\u{1F600}",
            "99999999999999999999999999",
            long.as_str(),
        ] {
            let _ = sip_password_strength(s, s);
            let _ = pin_strength(s, s);
            let _ = sip_password_strength(s, "");
            let _ = pin_strength(s, "\u{0}");
        }
        let a = sip_password_strength(&long, "");
        assert!(a.score <= 100);
    }
}
