//! Patch campaigns' values, valid by construction: the selector (vulnerability ids and/or a
//! package with a `vers` range), the escalation ladder, item states, and the two decisions the
//! escalation makes from them (an item's deadline; which ladder levels are due for an item now).

use super::purl::PackageCoordinates;
use super::version::{Scheme, VersionRange};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// The most vulnerability ids one campaign may name.
pub const MAX_CVES: usize = 200;
/// The most levels a ladder may have.
pub const MAX_LEVELS: usize = 10;

/// What a campaign is about. At least one of: vulnerability ids, a package (with a range, or any
/// version when none).
#[derive(Debug, Clone, PartialEq)]
pub struct Selector {
    cves: Vec<String>,
    package: Option<(PackageCoordinates, Option<VersionRange>)>,
}

pub use super::text::FieldError;

/// Whether `id` reads as a vulnerability id (CVE-…, GHSA-…, DSA-…: no spaces, not too long).
pub fn check_vulnerability_id(id: &str) -> Result<(), String> {
    if id.is_empty() || id.len() > 128 || id.chars().any(|c| c.is_whitespace() || c.is_control() || c == ',') {
        return Err(format!("{id:?} is not a vulnerability id"));
    }
    Ok(())
}

impl Selector {
    /// Checks a selector as the API and the form give it.
    pub fn parse(cves: &[String], package: Option<&str>, range: Option<&str>) -> Result<Selector, FieldError> {
        let text = |v: Option<&str>| v.map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        let mut ids: Vec<String> = Vec::new();
        for id in cves.iter().map(|c| c.trim()).filter(|c| !c.is_empty()) {
            check_vulnerability_id(id).map_err(|e| FieldError::new("cves", e))?;
            if !ids.iter().any(|i| i == id) {
                ids.push(id.to_string());
            }
        }
        if ids.len() > MAX_CVES {
            return Err(FieldError::new("cves", format!("at most {MAX_CVES} vulnerability ids per campaign")));
        }
        let package = match (text(package), text(range)) {
            (None, Some(_)) => return Err(FieldError::new("package", "a range needs the package it applies to (pkg:type/namespace/name)")),
            (None, None) => None,
            (Some(p), range) => {
                let c = PackageCoordinates::parse(&p).map_err(|e| FieldError::new("package", e))?;
                let range = match range {
                    None => None,
                    Some(r) => {
                        let r = VersionRange::parse(&r).map_err(|e| FieldError::new("range", e))?;
                        if Scheme::parse(c.ptype()) != Some(r.scheme()) {
                            return Err(FieldError::new(
                                "range",
                                format!("{r} does not order {} packages (their versions are not in that scheme)", c.ptype()),
                            ));
                        }
                        Some(r)
                    }
                };
                Some((c, range))
            }
        };
        if ids.is_empty() && package.is_none() {
            return Err(FieldError::new("cves", "name vulnerability ids (cves), a package and range, or both"));
        }
        Ok(Selector { cves: ids, package })
    }

    pub fn cves(&self) -> &[String] {
        &self.cves
    }

    pub fn package(&self) -> Option<&PackageCoordinates> {
        self.package.as_ref().map(|(c, _)| c)
    }

    pub fn range(&self) -> Option<&VersionRange> {
        self.package.as_ref().and_then(|(_, r)| r.as_ref())
    }

    /// Whether an installed version of the selected package is inside the range (any version
    /// when the campaign names no range).
    pub fn version_selected(&self, installed: &str) -> bool {
        self.range().is_none_or(|r| r.contains(installed))
    }
}

/// One rung of the ladder: days relative to the deadline (negative: a reminder before it) and
/// who hears of it (the contacts of that level).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Level {
    pub level: i64,
    pub days: i64,
    /// Who the level's contacts are, for people reading the ladder ("team lead").
    #[serde(default)]
    pub recipients: String,
}

/// Levels in increasing order of level and of days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Ladder(Vec<Level>);

impl Ladder {
    /// The ladder a campaign gets when it names none: the team 7 days before the deadline, the
    /// team lead at it, the manager 7 days after, the CISO 14 days after.
    pub fn default_ladder() -> Ladder {
        let l = |level, days, who: &str| Level { level, days, recipients: who.into() };
        Ladder(vec![l(0, -7, "the team"), l(1, 0, "team lead"), l(2, 7, "manager"), l(3, 14, "CISO")])
    }

    /// Checks a ladder: 1 to 10 levels, level numbers 0..=9 each once, rising with the days.
    pub fn new(mut levels: Vec<Level>) -> Result<Ladder, FieldError> {
        if levels.is_empty() || levels.len() > MAX_LEVELS {
            return Err(FieldError::new("ladder", format!("between 1 and {MAX_LEVELS} levels")));
        }
        levels.sort_by_key(|l| l.level);
        for (i, l) in levels.iter().enumerate() {
            if !(0..MAX_LEVELS as i64).contains(&l.level) {
                return Err(FieldError::new("ladder", format!("level {} is not between 0 and {}", l.level, MAX_LEVELS - 1)));
            }
            if !(-365..=365).contains(&l.days) {
                return Err(FieldError::new("ladder", format!("level {}: days must be between -365 and 365", l.level)));
            }
            if l.recipients.len() > 200 || l.recipients.chars().any(|c| c.is_control() || super::is_bidi_control(c)) {
                return Err(FieldError::new("ladder", format!("level {}: recipients is too long or holds control characters", l.level)));
            }
            if let Some(prev) = i.checked_sub(1).map(|p| &levels[p]) {
                if prev.level == l.level {
                    return Err(FieldError::new("ladder", format!("level {} appears twice", l.level)));
                }
                if prev.days > l.days {
                    return Err(FieldError::new(
                        "ladder",
                        format!("level {} comes {} days before level {}", l.level, prev.days - l.days, prev.level),
                    ));
                }
            }
        }
        Ok(Ladder(levels))
    }

    pub fn levels(&self) -> &[Level] {
        &self.0
    }
}

/// An item's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemState {
    Open,
    Acknowledged,
    PendingVerification,
    Excepted,
    Fixed,
    Retired,
}

impl ItemState {
    pub const ALL: [ItemState; 6] = [
        ItemState::Open,
        ItemState::Acknowledged,
        ItemState::PendingVerification,
        ItemState::Excepted,
        ItemState::Fixed,
        ItemState::Retired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ItemState::Open => "open",
            ItemState::Acknowledged => "acknowledged",
            ItemState::PendingVerification => "pending_verification",
            ItemState::Excepted => "excepted",
            ItemState::Fixed => "fixed",
            ItemState::Retired => "retired",
        }
    }

    pub fn parse(s: &str) -> Option<ItemState> {
        ItemState::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Fixed and retired items are done: nothing escalates them and nothing reopens them.
    pub fn is_closed(self) -> bool {
        matches!(self, ItemState::Fixed | ItemState::Retired)
    }

    /// Still to be worked on (escalates; overdue once its deadline has passed).
    pub fn is_outstanding(self) -> bool {
        matches!(self, ItemState::Open | ItemState::Acknowledged | ItemState::PendingVerification)
    }

    /// May be acknowledged (again).
    pub fn is_acknowledgeable(self) -> bool {
        matches!(self, ItemState::Open | ItemState::Acknowledged)
    }
}

impl std::fmt::Display for ItemState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Stored as its text in both databases; a row decodes into the state (an unknown text is a
/// decoding error naming it).
impl<DB: sqlx::Database> sqlx::Type<DB> for ItemState
where
    str: sqlx::Type<DB>,
{
    fn type_info() -> DB::TypeInfo {
        <str as sqlx::Type<DB>>::type_info()
    }
    fn compatible(ty: &DB::TypeInfo) -> bool {
        <str as sqlx::Type<DB>>::compatible(ty)
    }
}

impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for ItemState
where
    &'r str: sqlx::Decode<'r, DB>,
{
    fn decode(value: <DB as sqlx::Database>::ValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        let s = <&str as sqlx::Decode<DB>>::decode(value)?;
        ItemState::parse(s).ok_or_else(|| format!("{s:?} is not an item state").into())
    }
}

impl<'q, DB: sqlx::Database> sqlx::Encode<'q, DB> for ItemState
where
    &'q str: sqlx::Encode<'q, DB>,
{
    fn encode_by_ref(
        &self,
        buf: &mut <DB as sqlx::Database>::ArgumentBuffer<'q>,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        <&'q str as sqlx::Encode<'q, DB>>::encode(self.as_str(), buf)
    }
}

/// An item's deadline when the campaign sets none: the later of the campaign's start and the
/// item's first sighting plus the SLA days of its worst severity.
pub fn sla_deadline(campaign_start: DateTime<Utc>, first_seen: DateTime<Utc>, sla_days: i64) -> NaiveDate {
    let due = super::dates::add_days_at(first_seen, sla_days);
    campaign_start.max(due).date_naive()
}

/// What the escalation needs to know of an item.
#[derive(Debug, Clone)]
pub struct EscalationFacts {
    pub state: ItemState,
    pub deadline: NaiveDate,
    /// An approved exception's expiry (the ladder is stopped until that day ends).
    pub exception_until: Option<NaiveDate>,
    /// Levels already delivered for this item.
    pub delivered: Vec<i64>,
}

/// The moment a level of an item falls due: the start of the deadline's day plus its days.
pub fn level_due_at(deadline: NaiveDate, days: i64) -> DateTime<Utc> {
    super::dates::midnight_after(deadline, days)
}

/// Which ladder levels fall due for an item at `now`, not delivered before:
/// - closed items (fixed, retired) escalate no more;
/// - an approved exception stops the ladder until it expires (its last day included);
/// - a reminder (a level before the deadline) fires only before the deadline and only for items
///   no one acknowledged; levels at or after the deadline fire whatever the acknowledgement.
pub fn due_levels(ladder: &Ladder, item: &EscalationFacts, now: DateTime<Utc>) -> Vec<i64> {
    if item.state.is_closed() {
        return vec![];
    }
    if item.state == ItemState::Excepted && item.exception_until.is_some_and(|until| now < level_due_at(until, 1)) {
        return vec![];
    }
    let deadline = level_due_at(item.deadline, 0);
    ladder
        .levels()
        .iter()
        .filter(|l| !item.delivered.contains(&l.level))
        .filter(|l| now >= level_due_at(item.deadline, l.days))
        .filter(|l| l.days >= 0 || (now < deadline && item.state != ItemState::Acknowledged))
        .map(|l| l.level)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn selectors_are_checked_and_name_the_field() {
        let s = Selector::parse(&["CVE-2022-22965".into(), " CVE-2022-22965 ".into()], None, None).unwrap();
        assert_eq!(s.cves(), ["CVE-2022-22965"]);
        let s = Selector::parse(&[], Some("pkg:deb/debian/openssl"), Some("vers:deb/<1.1.1n-0+deb11u4")).unwrap();
        assert!(s.version_selected("1.1.1d-0+deb10u7") && !s.version_selected("1.1.1n-0+deb11u4"));
        let field = |cves: &[&str], p: Option<&str>, r: Option<&str>| {
            let cves: Vec<String> = cves.iter().map(|s| s.to_string()).collect();
            Selector::parse(&cves, p, r).unwrap_err().field
        };
        assert_eq!(field(&[], None, None), "cves");
        assert_eq!(field(&["CVE 1"], None, None), "cves");
        assert_eq!(field(&[], None, Some("vers:deb/<1")), "package");
        assert_eq!(field(&[], Some("openssl"), None), "package");
        assert_eq!(field(&[], Some("pkg:deb/debian/openssl"), Some("<1.0")), "range");
        assert_eq!(field(&[], Some("pkg:deb/debian/openssl"), Some("vers:npm/<1.0.0")), "range");
        assert_eq!(field(&[], Some("pkg:deb/debian/openssl"), Some("vers:deb/<1.0-")), "range");
    }

    #[test]
    fn ladders_rise_and_name_each_level_once() {
        assert_eq!(
            Ladder::default_ladder().levels().iter().map(|l| (l.level, l.days)).collect::<Vec<_>>(),
            [(0, -7), (1, 0), (2, 7), (3, 14)]
        );
        let l = |level, days| Level { level, days, recipients: String::new() };
        assert!(Ladder::new(vec![l(1, 0), l(0, -3)]).is_ok(), "given in any order");
        assert!(Ladder::new(vec![]).is_err());
        assert!(Ladder::new(vec![l(0, 0), l(0, 3)]).is_err());
        assert!(Ladder::new(vec![l(0, 5), l(1, 0)]).is_err(), "a higher level before a lower one");
        assert!(Ladder::new(vec![l(10, 0)]).is_err());
    }

    #[test]
    fn sla_deadline_is_the_later_of_start_and_first_sighting_plus_days() {
        let start = at("2026-12-01T09:00:00Z");
        assert_eq!(sla_deadline(start, at("2026-11-01T00:00:00Z"), 7), day("2026-12-01"), "long overdue: from the start");
        assert_eq!(sla_deadline(start, at("2026-11-28T10:00:00Z"), 30), day("2026-12-28"));
    }

    #[test]
    fn the_ladder_walks_reminder_deadline_and_after() {
        let ladder = Ladder::default_ladder();
        let mut item = EscalationFacts { state: ItemState::Open, deadline: day("2026-12-20"), exception_until: None, delivered: vec![] };
        assert!(due_levels(&ladder, &item, at("2026-12-12T23:59:59Z")).is_empty());
        assert_eq!(due_levels(&ladder, &item, at("2026-12-13T00:00:00Z")), [0], "a week before: the reminder");
        item.delivered.push(0);
        assert!(due_levels(&ladder, &item, at("2026-12-19T12:00:00Z")).is_empty(), "delivered once");
        assert_eq!(due_levels(&ladder, &item, at("2026-12-20T00:00:00Z")), [1]);
        item.delivered.push(1);
        assert_eq!(due_levels(&ladder, &item, at("2026-12-28T00:00:00Z")), [2]);
        // Acknowledged: no reminder, but the deadline's levels still fire.
        let acked =
            EscalationFacts { state: ItemState::Acknowledged, deadline: day("2026-12-20"), exception_until: None, delivered: vec![] };
        assert!(due_levels(&ladder, &acked, at("2026-12-14T00:00:00Z")).is_empty());
        assert_eq!(due_levels(&ladder, &acked, at("2026-12-27T00:00:00Z")), [1, 2]);
        // A reminder not sent before the deadline is not sent after it.
        let late = EscalationFacts { state: ItemState::Open, deadline: day("2026-12-20"), exception_until: None, delivered: vec![] };
        assert_eq!(due_levels(&ladder, &late, at("2026-12-21T00:00:00Z")), [1]);
        // An approved exception stops the ladder through its last day, then it resumes.
        let excepted = EscalationFacts {
            state: ItemState::Excepted,
            deadline: day("2026-12-20"),
            exception_until: Some(day("2027-01-10")),
            delivered: vec![0],
        };
        assert!(due_levels(&ladder, &excepted, at("2027-01-10T23:00:00Z")).is_empty());
        assert_eq!(due_levels(&ladder, &excepted, at("2027-01-11T00:00:00Z")), [1, 2, 3]);
        // Closed items are done.
        let fixed = EscalationFacts { state: ItemState::Fixed, ..late };
        assert!(due_levels(&ladder, &fixed, at("2027-06-01T00:00:00Z")).is_empty());
    }
}
