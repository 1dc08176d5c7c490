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

/// The optimal-string-alignment distance between `a` and `b` if it is at most `bound`.
pub(crate) fn distance_within(a: &[char], b: &[char], bound: usize) -> Option<usize> {
    if a.len().abs_diff(b.len()) > bound {
        return None;
    }
    let width = b.len() + 1;
    // Three rows: two back (for transpositions), one back, and the row being filled.
    let mut two_back: Vec<usize> = vec![0; width];
    let mut one_back: Vec<usize> = (0..width).collect();
    let mut current: Vec<usize> = vec![0; width];
    let mut prev_a: Option<char> = None;
    for (i, &ca) in a.iter().enumerate() {
        let row = i + 1;
        let mut row_min = row;
        if let Some(first) = current.first_mut() {
            *first = row;
        }
        let mut prev_b: Option<char> = None;
        for (j, &cb) in b.iter().enumerate() {
            let col = j + 1;
            let cost = usize::from(ca != cb);
            let deletion = one_back
                .get(col)
                .map_or(usize::MAX, |v| v.saturating_add(1));
            let insertion = current.get(j).map_or(usize::MAX, |v| v.saturating_add(1));
            let substitution = one_back
                .get(j)
                .map_or(usize::MAX, |v| v.saturating_add(cost));
            let mut best = deletion.min(insertion).min(substitution);
            if prev_a == Some(cb) && prev_b == Some(ca) && ca != cb {
                let transposition = j
                    .checked_sub(1)
                    .and_then(|k| two_back.get(k))
                    .map_or(usize::MAX, |v| v.saturating_add(1));
                best = best.min(transposition);
            }
            if let Some(cell) = current.get_mut(col) {
                *cell = best;
            }
            row_min = row_min.min(best);
            prev_b = Some(cb);
        }
        if row_min > bound {
            return None;
        }
        std::mem::swap(&mut two_back, &mut one_back);
        std::mem::swap(&mut one_back, &mut current);
        prev_a = Some(ca);
    }
    one_back.last().copied().filter(|d| *d <= bound)
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
