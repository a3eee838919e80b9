//! SQLite's page cache: each connection's own, and the larger one a large report's transaction
//! takes while it holds the write lock.

/// Each SQLite connection's page cache, in KiB (SQLite's default, set explicitly so a widened
/// cache has a size to return to). Eight connections hold 16 MB at most.
pub const PAGE_CACHE_KIB: u32 = 2000;

/// The most a report's transaction takes: 32 MiB, on the one connection that holds the write
/// lock (`BEGIN IMMEDIATE` lets one writer in at a time).
const REPORT_CACHE_MOST_KIB: u32 = 32 * 1024;

/// Pages a report's transaction touches, per finding or package row it writes: a row lands in
/// the findings, the image's findings and their indexes, the vulnerabilities and packages, most
/// of them on pages of their own at `enterprise` (measured: Grype's 1,509 findings and 178
/// packages read 13,000 pages with the default cache, 2,300 with 8 MiB).
const KIB_PER_ROW: u32 = 4;

/// The page cache, in KiB, for a report of `rows` finding and package rows: `None` when the
/// connection's own cache holds it; else 4 KiB a row rounded up to a power-of-two MiB (so a few
/// `PRAGMA` texts recur), at most `REPORT_CACHE_MOST_KIB`. A transaction whose pages outgrow
/// the cache writes them to the log before its commit and reads them back (its statements
/// touch the same index pages again and again): Grype's report spent a third of its time there.
pub fn report_page_cache_kib(rows: usize) -> Option<u32> {
    let wanted = u32::try_from(rows).unwrap_or(u32::MAX).saturating_mul(KIB_PER_ROW);
    if wanted <= PAGE_CACHE_KIB {
        return None;
    }
    Some(wanted.div_ceil(1024).next_power_of_two().saturating_mul(1024).min(REPORT_CACHE_MOST_KIB))
}

#[cfg(test)]
mod tests {
    use super::{report_page_cache_kib, PAGE_CACHE_KIB, REPORT_CACHE_MOST_KIB};

    /// Small reports keep the connection's cache; larger ones get a power-of-two MiB that holds
    /// 4 KiB a row, never more than the cap, however many rows.
    #[test]
    fn a_report_gets_a_cache_that_holds_its_rows_up_to_the_cap() {
        assert_eq!(report_page_cache_kib(0), None);
        assert_eq!(report_page_cache_kib(100), None);
        assert_eq!(report_page_cache_kib(500), None);
        assert_eq!(report_page_cache_kib(1_687), Some(8 * 1024));
        assert_eq!(report_page_cache_kib(usize::MAX), Some(REPORT_CACHE_MOST_KIB));
        for rows in 0..20_000usize {
            let Some(kib) = report_page_cache_kib(rows) else {
                assert!(rows * 4 <= PAGE_CACHE_KIB as usize, "{rows} rows");
                continue;
            };
            assert!((kib / 1024).is_power_of_two(), "{rows} rows: {kib} KiB");
            assert!(kib as usize >= (rows * 4).min(REPORT_CACHE_MOST_KIB as usize), "{rows} rows: {kib} KiB");
            assert!(kib <= REPORT_CACHE_MOST_KIB && kib > PAGE_CACHE_KIB, "{rows} rows: {kib} KiB");
        }
    }
}
