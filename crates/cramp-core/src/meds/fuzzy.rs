//! Bounded Damerau-Levenshtein distance (optimal string alignment), written out rather than taken
//! from a crate because the core depends on `thiserror` only and the lexicon needs just one
//! function: "is this word within k edits of that term, and how many".
//!
//! A transposition ("atorvastatni") counts as one edit, as typists make it. The bound lets the
//! scan give up as soon as a row of the table exceeds it, so comparing a word with every term of
//! the lexicon stays cheap.

/// Edits allowed for a word of `len` letters: none under five (short names and abbreviations are
/// too close to one another), one up to eight, two beyond.
pub(crate) const fn allowed_edits(len: usize) -> usize {
    match len {
        0..=4 => 0,
        5..=8 => 1,
        _ => 2,
    }
}

/// Longest word the matcher compares; drug names are far shorter, and longer words are not
/// guessed at.
const MAX_LEN: usize = 47;

/// The optimal-string-alignment distance between `a` and `b` if it is at most `bound`.
///
/// Only the diagonal band `|i - j| <= bound` of the table is computed: a cell outside it is at
/// least `bound + 1` away, so it is written as that cap and can never make a result within the
/// bound look closer than it is.
pub(crate) fn distance_within(a: &[char], b: &[char], bound: usize) -> Option<usize> {
    if a.len().abs_diff(b.len()) > bound || a.len() > MAX_LEN || b.len() > MAX_LEN {
        return None;
    }
    // INVARIANT: bound < MAX_LEN here (the lengths differ by at most MAX_LEN), so it fits a byte.
    let cap = u8::try_from(bound.min(MAX_LEN) + 1).unwrap_or(u8::MAX);
    let at = |row: &[u8; MAX_LEN + 2], j: usize| row.get(j).copied().unwrap_or(cap);
    // Three small rows on the stack: two back (for transpositions), one back, and the row being
    // filled. Cells are bytes: no value stored here exceeds the cap.
    let mut two_back = [cap; MAX_LEN + 2];
    let mut one_back = [cap; MAX_LEN + 2];
    let mut current = [cap; MAX_LEN + 2];
    for (j, cell) in one_back.iter_mut().enumerate().take(b.len() + 1) {
        *cell = u8::try_from(j).unwrap_or(cap).min(cap);
    }
    let mut prev_a: Option<char> = None;
    for (i, &ca) in a.iter().enumerate() {
        let row = i + 1;
        let lo = row.saturating_sub(bound).max(1);
        let hi = (row + bound).min(b.len());
        if let Some(first) = current.first_mut() {
            *first = u8::try_from(row).unwrap_or(cap).min(cap);
        }
        if let Some(left) = current.get_mut(lo - 1).filter(|_| lo > 1) {
            *left = cap;
        }
        let mut row_min = at(&current, 0);
        for j in lo..=hi {
            let Some(&cb) = b.get(j - 1) else {
                break;
            };
            let cost = u8::from(ca != cb);
            let mut best = (at(&one_back, j) + 1)
                .min(at(&current, j - 1) + 1)
                .min(at(&one_back, j - 1) + cost);
            if j >= 2 && prev_a == Some(cb) && b.get(j - 2) == Some(&ca) && ca != cb {
                best = best.min(at(&two_back, j - 2) + 1);
            }
            let best = best.min(cap);
            if let Some(cell) = current.get_mut(j) {
                *cell = best;
            }
            row_min = row_min.min(best);
        }
        if let Some(right) = current.get_mut(hi + 1) {
            *right = cap;
        }
        if row_min >= cap {
            return None;
        }
        std::mem::swap(&mut two_back, &mut one_back);
        std::mem::swap(&mut one_back, &mut current);
        prev_a = Some(ca);
    }
    let d = usize::from(at(&one_back, b.len()));
    (d <= bound).then_some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(a: &str, b: &str, bound: usize) -> Option<usize> {
        let a: Vec<char> = a.chars().collect();
        let b: Vec<char> = b.chars().collect();
        distance_within(&a, &b, bound)
    }

    #[test]
    fn counts_each_kind_of_edit_once() {
        assert_eq!(d("simvastatin", "simvastatin", 2), Some(0));
        assert_eq!(d("simvastatn", "simvastatin", 2), Some(1), "deletion");
        assert_eq!(d("simvasstatin", "simvastatin", 2), Some(1), "insertion");
        assert_eq!(d("simvastatim", "simvastatin", 2), Some(1), "substitution");
        assert_eq!(d("simvasattin", "simvastatin", 2), Some(1), "transposition");
        assert_eq!(d("lasix", "lasik", 1), Some(1));
        assert_eq!(d("", "abc", 3), Some(3));
    }

    #[test]
    fn gives_up_beyond_the_bound() {
        assert_eq!(d("escitalopram", "citalopram", 1), None);
        assert_eq!(d("escitalopram", "citalopram", 2), Some(2));
        assert_eq!(d("furosemide", "torsemide", 2), None);
        assert_eq!(d("abcdef", "ab", 3), None);
    }

    #[test]
    fn agrees_with_a_plain_table_on_short_words() {
        // Reference: the unbounded optimal-string-alignment table.
        fn osa(a: &[char], b: &[char]) -> usize {
            let mut t = vec![vec![0usize; b.len() + 1]; a.len() + 1];
            for (i, row) in t.iter_mut().enumerate() {
                row[0] = i;
            }
            for (j, cell) in t[0].iter_mut().enumerate() {
                *cell = j;
            }
            for i in 1..=a.len() {
                for j in 1..=b.len() {
                    let cost = usize::from(a[i - 1] != b[j - 1]);
                    let mut v = (t[i - 1][j] + 1)
                        .min(t[i][j - 1] + 1)
                        .min(t[i - 1][j - 1] + cost);
                    if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                        v = v.min(t[i - 2][j - 2] + 1);
                    }
                    t[i][j] = v;
                }
            }
            t[a.len()][b.len()]
        }
        let words = ["abc", "acb", "bca", "ab", "cab", "abcd", "dcba", "a", ""];
        for x in words {
            for y in words {
                let (xa, ya): (Vec<char>, Vec<char>) = (x.chars().collect(), y.chars().collect());
                let full = osa(&xa, &ya);
                for bound in 0..5 {
                    let want = (full <= bound).then_some(full);
                    assert_eq!(distance_within(&xa, &ya, bound), want, "{x} {y} {bound}");
                }
            }
        }
    }

    #[test]
    fn edits_grow_with_length() {
        assert_eq!(allowed_edits(4), 0);
        assert_eq!(allowed_edits(5), 1);
        assert_eq!(allowed_edits(8), 1);
        assert_eq!(allowed_edits(9), 2);
    }
}
