//! A report's rows as multi-row statements of sizes that recur.

/// The most rows of a report's multi-row statement on SQLite. SQLite keeps a prepared statement
/// in Drydock's own memory, in each connection's statement cache, at some 1.5 KB a row of 19
/// values (its `EXPLAIN`: 20 instructions a row; and a cell per value): batches of up to 256
/// rows keep every size's statement of a kind within some 0.75 MB a connection, where batches of
/// 1,000 took 3 MB.
pub const SQLITE_BATCH: usize = 256;

/// Splits `rows` into batches of `most` rows, then the rest in powers of two down to 16, then
/// what is left (fewer than 16). Each size's statement is prepared once and kept in the
/// connection's statement cache; a statement sized by each report's own count was prepared again
/// for nearly every report, and preparing a 100-row, 19-column insert costs more than running it
/// (BENCHMARKS.md, session 30).
pub fn batches<T>(rows: &[T], most: usize) -> impl Iterator<Item = &[T]> {
    // A batch holds a row at least, whatever `most` says: every call ends.
    let most = most.max(1);
    let mut rest = rows;
    std::iter::from_fn(move || {
        let n = match rest.len() {
            0 => return None,
            n if n >= most => most,
            n if n >= 16 => 1 << n.ilog2(),
            n => n,
        };
        let (batch, tail) = rest.split_at(n);
        rest = tail;
        Some(batch)
    })
}

#[cfg(test)]
mod tests {
    use super::{batches, SQLITE_BATCH};
    use std::collections::BTreeSet;

    /// Every row once, in order, in falling sizes from a fixed set: `most`, the powers of two
    /// below it down to 16, and 1 to 15.
    #[test]
    fn every_row_once_in_order_in_sizes_that_recur() {
        // No rows are lost or looped over when `most` is 0.
        assert_eq!(batches(&[1, 2, 3], 0).collect::<Vec<_>>(), vec![&[1][..], &[2][..], &[3][..]]);
        for most in [SQLITE_BATCH, 1000] {
            let mut seen = BTreeSet::new();
            for n in 0..=2600usize {
                let rows: Vec<usize> = (0..n).collect();
                let parts: Vec<&[usize]> = batches(&rows, most).collect();
                assert_eq!(parts.concat(), rows, "{n} rows in batches of {most}");
                let sizes: Vec<usize> = parts.iter().map(|p| p.len()).collect();
                assert!(sizes.iter().all(|&s| s > 0 && s <= most), "{n} rows: {sizes:?}");
                assert!(sizes.windows(2).all(|w| w[0] >= w[1]), "{n} rows: {sizes:?}");
                seen.extend(sizes);
            }
            let powers = (4..usize::BITS).map(|k| 1usize << k).take_while(|&p| p < most);
            let expected: BTreeSet<usize> = [most].into_iter().chain(powers).chain(1..16).collect();
            assert_eq!(seen, expected, "batches of {most}");
        }
    }
}
