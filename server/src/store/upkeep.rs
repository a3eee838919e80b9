//! The database's own upkeep: the planner's statistics kept current (`backend/upkeep.rs`).

use super::{backend_postgres, backend_sqlite, Result, Store};

store_capability! {
    /// Upkeep of the database itself (`backend/upkeep.rs`).
    pub trait Upkeep {
        /// Gathers planner statistics for the tables that changed enough since they were last
        /// gathered; answers those tables' names (none: every table's statistics are current).
        fn refresh_statistics(&self) -> Result<Vec<String>>;
    }
}

/// The table an `ANALYZE "schema"."table"` statement names (the statement itself if it is not
/// of that shape).
pub(super) fn analyzed_table(statement: &str) -> String {
    match statement.rsplit_once("\".\"") {
        Some((_, table)) => table.trim_end_matches('"').replace("\"\"", "\""),
        None => statement.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_table_of_an_analyze_statement() {
        assert_eq!(super::analyzed_table(r#"ANALYZE "main"."images""#), "images");
        assert_eq!(super::analyzed_table(r#"ANALYZE "public"."odd""name""#), "odd\"name");
        assert_eq!(super::analyzed_table("ANALYZE"), "ANALYZE");
    }
}
