//! Line diffs between two configs (a preview against the vendor's default config): rows for
//! a side-by-side view and a unified diff for a terminal. Computed by a small Myers diff
//! (linear space, "An O(ND) Difference Algorithm and Its Variations", 1986) written here: no
//! clock, no allocation beyond two vectors, and a few kilobytes in the web page's wasm
//! where the `similar` crate cost 19 KB gzipped.

use std::collections::HashMap;

use serde::Serialize;
/// What happened to a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DiffKind {
    /// In both, unchanged.
    Same,
    /// Only in the new text.
    Added,
    /// Only in the old text.
    Removed,
    /// A line of the old text replaced by a line of the new one (shown side by side).
    Changed,
}

/// One row of a side-by-side diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiffRow {
    /// What happened.
    pub kind: DiffKind,
    /// The 1-based line in the old text (none for an added line).
    pub old_line: Option<usize>,
    /// The 1-based line in the new text (none for a removed line).
    pub new_line: Option<usize>,
    /// The old line's text, without its line ending.
    pub old: Option<String>,
    /// The new line's text, without its line ending.
    pub new: Option<String>,
}

/// The side-by-side rows from `old` to `new`: every line of both, in order. A block of
/// removed lines followed by added ones is paired row by row as `Changed`; the longer
/// side's rest is `Removed` or `Added`. Line endings (`\n`, `\r\n`) are not compared.
#[must_use]
pub fn diff_lines(old: &str, new: &str) -> Vec<DiffRow> {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let mut rows = Vec::with_capacity(a.len().max(b.len()));
    let row = |kind, i: Option<usize>, j: Option<usize>| DiffRow {
        kind,
        old_line: i.map(|i| i + 1),
        new_line: j.map(|j| j + 1),
        old: i.and_then(|i| a.get(i)).map(|s| (*s).to_owned()),
        new: j.and_then(|j| b.get(j)).map(|s| (*s).to_owned()),
    };
    for op in edit_script(&a, &b) {
        match op {
            Op::Equal { old, new, len } => {
                rows.extend((0..len).map(|k| row(DiffKind::Same, Some(old + k), Some(new + k))));
            }
            Op::Change {
                old,
                old_len,
                new,
                new_len,
            } => rows.extend((0..old_len.max(new_len)).map(|k| {
                let i = (k < old_len).then_some(old + k);
                let j = (k < new_len).then_some(new + k);
                let kind = match (i, j) {
                    (Some(_), Some(_)) => DiffKind::Changed,
                    (Some(_), None) => DiffKind::Removed,
                    _ => DiffKind::Added,
                };
                row(kind, i, j)
            })),
        }
    }
    rows
}

/// A unified diff (`--- old_name`, `+++ new_name`, hunks with three lines of context) from
/// `old` to `new`; empty when they are equal. Lines are compared with their endings, and a
/// last line without one is followed by `\ No newline at end of file`, as `diff -u` does.
#[must_use]
pub fn unified_diff(old: &str, new: &str, old_name: &str, new_name: &str) -> String {
    const CONTEXT: usize = 3;
    if old == new {
        return String::new();
    }
    let a: Vec<&str> = old.split_inclusive('\n').collect();
    let b: Vec<&str> = new.split_inclusive('\n').collect();
    let ops = edit_script(&a, &b);
    let mut out = format!("--- {old_name}\n+++ {new_name}\n");
    // Hunks: runs of changes whose equal gaps are at most twice the context.
    let changes: Vec<usize> = (0..ops.len())
        .filter(|&i| matches!(ops[i], Op::Change { .. }))
        .collect();
    let mut c = 0;
    while c < changes.len() {
        let first = changes[c];
        let mut last = first;
        while let Some(&next) = changes.get(c + 1) {
            let gap = ops[last + 1..next].iter().map(Op::old_len).sum::<usize>();
            if gap > 2 * CONTEXT {
                break;
            }
            last = next;
            c += 1;
        }
        c += 1;
        let lead = match first.checked_sub(1).map(|i| ops[i]) {
            Some(Op::Equal { len, .. }) => len.min(CONTEXT),
            _ => 0,
        };
        let trail = match ops.get(last + 1) {
            Some(Op::Equal { len, .. }) => (*len).min(CONTEXT),
            _ => 0,
        };
        let (old_start, new_start) = ops[first].starts();
        let (old_last, new_last) = ops[last].starts();
        out.push_str(&format!(
            "@@ -{} +{} @@\n",
            HunkRange(old_start - lead, old_last + ops[last].old_len() + trail),
            HunkRange(new_start - lead, new_last + ops[last].new_len() + trail),
        ));
        for x in &a[old_start - lead..old_start] {
            push_line(&mut out, ' ', x);
        }
        for op in &ops[first..=last] {
            match *op {
                Op::Equal { old, len, .. } => {
                    for x in &a[old..old + len] {
                        push_line(&mut out, ' ', x);
                    }
                }
                Op::Change {
                    old,
                    old_len,
                    new,
                    new_len,
                } => {
                    for x in &a[old..old + old_len] {
                        push_line(&mut out, '-', x);
                    }
                    for y in &b[new..new + new_len] {
                        push_line(&mut out, '+', y);
                    }
                }
            }
        }
        let old_end = old_last + ops[last].old_len();
        for x in &a[old_end..old_end + trail] {
            push_line(&mut out, ' ', x);
        }
    }
    out
}

fn push_line(out: &mut String, sign: char, text: &str) {
    out.push(sign);
    out.push_str(text);
    if !text.ends_with('\n') {
        out.push_str("\n\\ No newline at end of file\n");
    }
}

/// `start,len` of a hunk as `diff -u` writes it: 1-based, `,len` left out for one line, and
/// an empty range named by the line before it.
struct HunkRange(usize, usize);

impl std::fmt::Display for HunkRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let len = self.1 - self.0;
        match len {
            1 => write!(f, "{}", self.0 + 1),
            0 => write!(f, "{},0", self.0),
            _ => write!(f, "{},{}", self.0 + 1, len),
        }
    }
}

/// One step of an edit script: a run of equal lines, or a block of old lines replaced by a
/// block of new ones (either may be empty, not both).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Equal {
        old: usize,
        new: usize,
        len: usize,
    },
    Change {
        old: usize,
        old_len: usize,
        new: usize,
        new_len: usize,
    },
}

impl Op {
    fn starts(&self) -> (usize, usize) {
        match *self {
            Self::Equal { old, new, .. } | Self::Change { old, new, .. } => (old, new),
        }
    }

    fn old_len(&self) -> usize {
        match *self {
            Self::Equal { len, .. } => len,
            Self::Change { old_len, .. } => old_len,
        }
    }

    fn new_len(&self) -> usize {
        match *self {
            Self::Equal { len, .. } => len,
            Self::Change { new_len, .. } => new_len,
        }
    }
}

/// The shortest edit script from `a` to `b`, as alternating [`Op::Equal`] runs and
/// [`Op::Change`] blocks, in order.
fn edit_script<'a>(a: &[&'a str], b: &[&'a str]) -> Vec<Op> {
    // Lines as numbers (equal lines, equal numbers): the search compares integers.
    let mut ids: HashMap<&str, usize> = HashMap::with_capacity(a.len() + b.len());
    let mut number = |lines: &[&'a str]| -> Vec<usize> {
        lines
            .iter()
            .map(|line| {
                let next = ids.len();
                *ids.entry(line).or_insert(next)
            })
            .collect()
    };
    let (a, b) = (number(a), number(b));
    // A line the other side does not have is an edit in every script: searching only the
    // lines both sides have finds the same longest common subsequence, often in far fewer
    // steps (a replacing template against the vendor default shares few lines).
    let mut in_a = vec![false; ids.len()];
    let mut in_b = vec![false; ids.len()];
    a.iter().for_each(|&x| in_a[x] = true);
    b.iter().for_each(|&y| in_b[y] = true);
    let keep_a: Vec<usize> = (0..a.len()).filter(|&i| in_b[a[i]]).collect();
    let keep_b: Vec<usize> = (0..b.len()).filter(|&j| in_a[b[j]]).collect();
    let ra: Vec<usize> = keep_a.iter().map(|&i| a[i]).collect();
    let rb: Vec<usize> = keep_b.iter().map(|&j| b[j]).collect();
    let mut m = Myers {
        a: &ra,
        b: &rb,
        // Diagonals -max..=max, for both directions; `max` bounds every D searched.
        vf: vec![0; 2 * (ra.len() + rb.len()) + 3],
        vb: vec![0; 2 * (ra.len() + rb.len()) + 3],
        raw: Vec::new(),
    };
    m.conquer(0, ra.len(), 0, rb.len());
    // The matched lines, back in the full texts; between them, changes.
    let mut ops = Vec::new();
    let (mut i, mut j) = (0, 0);
    let mut step = |ops: &mut Vec<Op>, x: usize, y: usize| {
        if x > i || y > j {
            ops.push(Op::Change {
                old: i,
                old_len: x - i,
                new: j,
                new_len: y - j,
            });
        }
        if x < a.len() {
            match ops.last_mut() {
                Some(Op::Equal { old, len, .. }) if *old + *len == x => *len += 1,
                _ => ops.push(Op::Equal {
                    old: x,
                    new: y,
                    len: 1,
                }),
            }
        }
        (i, j) = (x + 1, y + 1);
    };
    for op in &m.raw {
        if let Op::Equal { old, new, len } = *op {
            for k in 0..len {
                step(&mut ops, keep_a[old + k], keep_b[new + k]);
            }
        }
    }
    step(&mut ops, a.len(), b.len());
    ops
}

struct Myers<'a> {
    a: &'a [usize],
    b: &'a [usize],
    vf: Vec<usize>,
    vb: Vec<usize>,
    raw: Vec<Op>,
}

impl Myers<'_> {
    /// Diffs `a[a0..a1]` against `b[b0..b1]`: common prefix and suffix off, then split at a
    /// middle snake and recurse (depth O(log) of the lengths on typical input, at most D).
    fn conquer(&mut self, mut a0: usize, mut a1: usize, mut b0: usize, mut b1: usize) {
        let prefix = self.a[a0..a1]
            .iter()
            .zip(&self.b[b0..b1])
            .take_while(|(x, y)| x == y)
            .count();
        if prefix > 0 {
            self.raw.push(Op::Equal {
                old: a0,
                new: b0,
                len: prefix,
            });
        }
        a0 += prefix;
        b0 += prefix;
        let suffix = self.a[a0..a1]
            .iter()
            .rev()
            .zip(self.b[b0..b1].iter().rev())
            .take_while(|(x, y)| x == y)
            .count();
        a1 -= suffix;
        b1 -= suffix;
        if a0 == a1 || b0 == b1 {
            if a0 < a1 || b0 < b1 {
                self.raw.push(Op::Change {
                    old: a0,
                    old_len: a1 - a0,
                    new: b0,
                    new_len: b1 - b0,
                });
            }
        } else {
            match self.middle_snake(a0, a1, b0, b1) {
                Some((x, y)) => {
                    self.conquer(a0, x, b0, y);
                    self.conquer(x, a1, y, b1);
                }
                // Not reached (see `middle_snake`); the whole block as one change is still
                // a valid script.
                None => self.raw.push(Op::Change {
                    old: a0,
                    old_len: a1 - a0,
                    new: b0,
                    new_len: b1 - b0,
                }),
            }
        }
        if suffix > 0 {
            self.raw.push(Op::Equal {
                old: a1,
                new: b1,
                len: suffix,
            });
        }
    }

    /// Where a middle snake of the (non-empty, prefix- and suffix-trimmed) ranges starts.
    /// Both halves it splits the ranges into are smaller than the whole: the point lies at
    /// least one edit from either corner, since the ranges differ at both ends.
    fn middle_snake(
        &mut self,
        a0: usize,
        a1: usize,
        b0: usize,
        b1: usize,
    ) -> Option<(usize, usize)> {
        let (n, m) = (a1 - a0, b1 - b0);
        let delta = n as isize - m as isize;
        let odd = delta & 1 == 1;
        // The diagonal k is at index k + off; D never exceeds ceil((n + m) / 2).
        let d_max = (n + m).div_ceil(2) as isize;
        let off = d_max + 1;
        let ix = |k: isize| (k + off) as usize;
        self.vf[ix(1)] = 0;
        self.vb[ix(1)] = 0;
        for d in 0..=d_max {
            // Forward: the furthest reaching path on each diagonal k, from the top left.
            for k in (-d..=d).rev().step_by(2) {
                let mut x = if k == -d || (k != d && self.vf[ix(k - 1)] < self.vf[ix(k + 1)]) {
                    self.vf[ix(k + 1)]
                } else {
                    self.vf[ix(k - 1)] + 1
                };
                let (x0, y0) = (x, (x as isize - k) as usize);
                let mut y = y0;
                while x < n && y < m && self.a[a0 + x] == self.b[b0 + y] {
                    x += 1;
                    y += 1;
                }
                self.vf[ix(k)] = x;
                let kb = delta - k;
                if odd && (-(d - 1)..=d - 1).contains(&kb) && x + self.vb[ix(kb)] >= n {
                    return Some((a0 + x0, b0 + y0));
                }
            }
            // Backward: the same from the bottom right (x counts lines from the end).
            for k in (-d..=d).rev().step_by(2) {
                let mut x = if k == -d || (k != d && self.vb[ix(k - 1)] < self.vb[ix(k + 1)]) {
                    self.vb[ix(k + 1)]
                } else {
                    self.vb[ix(k - 1)] + 1
                };
                let mut y = (x as isize - k) as usize;
                while x < n && y < m && self.a[a1 - x - 1] == self.b[b1 - y - 1] {
                    x += 1;
                    y += 1;
                }
                self.vb[ix(k)] = x;
                let kf = delta - k;
                if !odd && (-d..=d).contains(&kf) && x + self.vf[ix(kf)] >= n {
                    return Some((a1 - x, b1 - y));
                }
            }
        }
        // The paths meet by D = ceil((n + m) / 2).
        None
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn kinds(rows: &[DiffRow]) -> Vec<(DiffKind, Option<usize>, Option<usize>)> {
        rows.iter()
            .map(|r| (r.kind, r.old_line, r.new_line))
            .collect()
    }

    #[test]
    fn rows_pair_changes_and_number_both_sides() {
        let rows = diff_lines("a\nb\nc\nd\n", "a\nB\nc\nd\ne\n");
        use DiffKind::*;
        assert_eq!(
            kinds(&rows),
            [
                (Same, Some(1), Some(1)),
                (Changed, Some(2), Some(2)),
                (Same, Some(3), Some(3)),
                (Same, Some(4), Some(4)),
                (Added, None, Some(5)),
            ]
        );
        assert_eq!(rows[1].old.as_deref(), Some("b"));
        assert_eq!(rows[1].new.as_deref(), Some("B"));
        let rows = diff_lines("x\ny\nz\n", "x\nz\n");
        assert_eq!(kinds(&rows)[1], (Removed, Some(2), None));
        // A replaced block of unequal length: pairs first, then the rest.
        let rows = diff_lines("k\n1\n2\n3\n", "k\nA\n");
        assert_eq!(
            kinds(&rows)[1..],
            [
                (Changed, Some(2), Some(2)),
                (Removed, Some(3), None),
                (Removed, Some(4), None)
            ]
        );
        // Line endings do not count.
        assert!(diff_lines("a\r\nb", "a\nb\n")
            .iter()
            .all(|r| r.kind == Same));
        assert!(diff_lines("", "").is_empty());
    }

    #[test]
    fn unified_diff_has_headers_and_hunks() {
        let d = unified_diff("a\nb\nc\n", "a\nx\nc\n", "default", "preview");
        assert!(
            d.starts_with("--- default\n+++ preview\n@@ -1,3 +1,3 @@\n"),
            "{d}"
        );
        assert!(d.contains("\n-b\n+x\n"), "{d}");
        assert_eq!(unified_diff("same\n", "same\n", "a", "b"), "");
    }

    /// The script's edits, checked: it turns `a` into `b`, and its length is the LCS
    /// distance (a table computed the slow way).
    fn check_minimal(a: &[&str], b: &[&str]) {
        let ops = edit_script(a, b);
        let (mut i, mut j, mut edits) = (0, 0, 0);
        for op in &ops {
            assert_eq!(op.starts(), (i, j), "{ops:?}");
            match *op {
                Op::Equal { len, .. } => {
                    assert_eq!(a[i..i + len], b[j..j + len]);
                }
                Op::Change {
                    old_len, new_len, ..
                } => {
                    assert!(old_len + new_len > 0);
                    edits += old_len + new_len;
                }
            }
            i += op.old_len();
            j += op.new_len();
        }
        assert_eq!((i, j), (a.len(), b.len()));
        let mut t = vec![vec![0usize; b.len() + 1]; a.len() + 1];
        for x in (0..a.len()).rev() {
            for y in (0..b.len()).rev() {
                t[x][y] = if a[x] == b[y] {
                    t[x + 1][y + 1] + 1
                } else {
                    t[x + 1][y].max(t[x][y + 1])
                };
            }
        }
        assert_eq!(
            edits,
            a.len() + b.len() - 2 * t[0][0],
            "{a:?} -> {b:?}: {ops:?}"
        );
    }

    #[test]
    fn myers_scripts_are_valid_and_shortest() {
        // A small deterministic generator: lines from a 4-letter alphabet, so matches abound.
        let mut seed = 0x2545_f491_u32;
        let mut next = move |n: u32| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed % n
        };
        // Four lines both sides may have, and two only one side has (dropped before the search).
        let words = ["a", "b", "c", "d", "only-a", "also-a", "only-b", "also-b"];
        for round in 0..600 {
            let (wa, wb) = if round % 2 == 0 {
                (&words[..4], &words[..4])
            } else {
                (&words[..6], &[&words[..4], &words[6..]].concat()[..])
            };
            let a: Vec<&str> = (0..next(14))
                .map(|_| wa[next(wa.len() as u32) as usize])
                .collect();
            let b: Vec<&str> = (0..next(14))
                .map(|_| wb[next(wb.len() as u32) as usize])
                .collect();
            check_minimal(&a, &b);
        }
        check_minimal(&[], &[]);
        check_minimal(&["x"], &[]);
        check_minimal(&[], &["x", "y"]);
        check_minimal(&["x"], &["y"]);
    }

    #[test]
    fn unified_diff_context_merges_and_missing_newline() {
        let old: String = (1..=20).map(|i| format!("{i}\n")).collect();
        let new: String = (1..=20)
            .filter(|&i| i != 19)
            .map(|i| match i {
                3 => "three\n".to_owned(),
                9 => "nine\n".to_owned(),
                _ => format!("{i}\n"),
            })
            .collect();
        let d = unified_diff(&old, &new, "a", "b");
        // 3 and 9 are 5 lines apart: one hunk; 19 is 9 lines further: a second one.
        assert_eq!(
            d,
            "--- a\n+++ b\n@@ -1,12 +1,12 @@\n 1\n 2\n-3\n+three\n 4\n 5\n 6\n 7\n 8\n-9\n+nine\n 10\n 11\n 12\n@@ -16,5 +16,4 @@\n 16\n 17\n 18\n-19\n 20\n"
        );
        let d = unified_diff("a\nb", "a\nb\n", "x", "y");
        assert_eq!(
            d,
            "--- x\n+++ y\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n"
        );
        assert_eq!(
            unified_diff("", "x\n", "x", "y"),
            "--- x\n+++ y\n@@ -0,0 +1 @@\n+x\n"
        );
    }
}
