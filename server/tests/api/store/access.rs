//! Who owns and who may: ownership rules, API tokens, role mappings, and the audit events
//! every change appends.

use super::*;
use crate::helpers::TestDb;
use app::types::RuleKind;
use chrono::Duration;
use drydock::domain::ownership::RuleSpec;
use drydock::domain::TeamName;

on_both_backends!(
    ownership_longest_prefix_on_segment_boundaries,
    tokens_are_hashed_and_verified,
    every_change_appends_an_audit_event,
    role_mappings_are_unique_and_audited,
    sessions_are_read_in_one_batch_with_the_data_version,
);

/// Sessions asked for together come back once each, whatever the batch's padding, expired ones
/// too (the caller judges expiry), unknown ones not at all, with the data version of the moment.
async fn sessions_are_read_in_one_batch_with_the_data_version(store: &Store) {
    let ids: Vec<String> = (0..5).map(|i| format!("session-{i}")).collect();
    for (i, id) in ids.iter().enumerate() {
        assert!(store.session_create(id, &format!("{{\"n\":{i}}}"), 1_000 + i as i64, None).await.unwrap());
    }
    let (none, version) = store.sessions_load(&[]).await.unwrap();
    assert!(none.is_empty());
    assert_eq!(version, store.data_version().await.unwrap());
    // Three known (padded to four) and one unknown, out of order.
    let asked = vec![ids[3].clone(), "nobody".to_string(), ids[0].clone(), ids[4].clone()];
    let (mut found, seen) = store.sessions_load(&asked[..3]).await.unwrap();
    found.sort_by(|a, b| a.id.cmp(&b.id));
    let got: Vec<_> = found.iter().map(|s| (s.id.as_str(), s.data.as_str(), s.expires_at)).collect();
    assert_eq!(got, vec![("session-0", "{\"n\":0}", 1_000), ("session-3", "{\"n\":3}", 1_003)]);
    assert_eq!(seen, version, "sessions are not estate data: the version stays");
    let (found, _) = store.sessions_load(&asked).await.unwrap();
    assert_eq!(found.len(), 3, "each once, the padding repeating none");
    // A change to the estate moves the version the next batch reads.
    store.ensure_teams(&[TeamName::parse("payments").unwrap()], &actor(), Utc::now()).await.unwrap();
    assert_eq!(store.sessions_load(&ids).await.unwrap().1, version + 1);
}

async fn ownership_longest_prefix_on_segment_boundaries(store: &Store) {
    let now = Utc::now();
    let d = ingest_bytes(store, &juice_shop(), now).await.summary().image.clone().unwrap();
    let rule = |pattern: &str, team: &str| RuleSpec::parse(RuleKind::RepositoryPrefix, pattern, team).unwrap();
    // "bkimm" is not a whole segment of bkimminich/juice-shop.
    store.add_ownership_rule(&rule("docker.io/bkimm", "wrong"), &actor(), now).await.unwrap();
    assert_eq!(store.image_detail(&crate::helpers::digest(&d), None).await.unwrap().unwrap().image.team, None);
    store.add_ownership_rule(&rule("docker.io/bkimminich", "web"), &actor(), now).await.unwrap();
    assert_eq!(store.image_detail(&crate::helpers::digest(&d), None).await.unwrap().unwrap().image.team.as_deref(), Some("web"));
    // A longer prefix wins, with or without the registry and whatever the trailing slash.
    store.add_ownership_rule(&rule("bkimminich/juice-shop/", "shop"), &actor(), now).await.unwrap();
    assert_eq!(store.image_detail(&crate::helpers::digest(&d), None).await.unwrap().unwrap().image.team.as_deref(), Some("shop"));
    let rules = store.ownership_rules().await.unwrap();
    let decided: Vec<(String, i64)> = rules.iter().map(|r| (r.pattern.clone(), r.subjects)).collect();
    assert!(decided.contains(&("bkimminich/juice-shop".into(), 1)));
    assert!(decided.contains(&("docker.io/bkimminich".into(), 0)));
    let team = store.team_view(&TeamName::parse("shop").unwrap(), 50, 0).await.unwrap().unwrap();
    assert_eq!((team.images.len(), team.total), (1, 1));
    assert_eq!(team.team.findings.total(), 236);
    assert!(store.team_view(&TeamName::parse("nobody").unwrap(), 50, 0).await.unwrap().is_none());
    // Duplicates and bad patterns are refused.
    assert!(store.add_ownership_rule(&rule("docker.io/bkimminich", "other"), &actor(), now).await.is_err());
    assert!(RuleSpec::parse(RuleKind::RepositoryPrefix, "a//b", "other").is_err());
    assert!(RuleSpec::parse(RuleKind::RepositoryPrefix, "acme", "Bad Team").is_err());
}

async fn tokens_are_hashed_and_verified(store: &Store) {
    let now = Utc::now();
    let secret = store
        .create_token("ci", "admin".parse().unwrap(), Some(&TeamName::parse("team-a").unwrap()), &Default::default(), &actor(), now)
        .await
        .unwrap();
    assert!(secret.starts_with("ddk_") && secret.len() > 40);
    let t = store.verify_token(&secret, now).await.unwrap().expect("valid token");
    assert_eq!(t.name, "ci");
    assert_eq!(t.team.as_deref(), Some("team-a"));
    assert!(store.verify_token("ddk_wrong", now).await.unwrap().is_none());
    let events = store.audit_events().await.unwrap();
    let dump = serde_json::to_string(&events).unwrap();
    assert!(!dump.contains(&secret), "the secret is never recorded");
}

async fn every_change_appends_an_audit_event(store: &Store) {
    let now = Utc::now();
    assert_eq!(store.audit_events().await.unwrap().len(), 0);
    ingest_bytes(store, &juice_shop(), now).await;
    let events = store.audit_events().await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, "scan.ingested");
    assert_eq!(events[0].payload["findings"]["critical"], 25);
    assert_eq!(events[0].payload["report_sha256"], sha256_hex(&juice_shop()));
    ingest_bytes(store, &juice_shop(), now + Duration::seconds(1)).await; // duplicate: no change, no event
    assert_eq!(store.audit_events().await.unwrap().len(), 1);
    store.add_ownership_rule(&RuleSpec::parse(RuleKind::RepositoryPrefix, "bkimminich", "web").unwrap(), &actor(), now).await.unwrap();
    let kinds: Vec<String> = store.audit_events().await.unwrap().into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds, ["scan.ingested", "team.created", "ownership_rule.created"]);
}

async fn role_mappings_are_unique_and_audited(store: &Store) {
    let now = Utc::now();
    let m = drydock::auth::mapping::parse("team-a-dev=developer:team-a").unwrap().remove(0);
    store.add_role_mapping(&m, &actor(), now).await.unwrap();
    assert!(store.add_role_mapping(&m, &actor(), now).await.is_err(), "the same mapping twice is refused");
    let rows = store.role_mapping_rows().await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].idp_group.as_str(), rows[0].created_by.as_str()), ("team-a-dev", actor().0.as_str()));
    assert_eq!(
        store.role_mappings().await.unwrap(),
        vec![("team-a-dev".into(), "developer".into(), Some(TeamName::parse("team-a").unwrap()))]
    );
    store.delete_role_mapping(rows[0].id, &actor(), now).await.unwrap();
    assert!(store.delete_role_mapping(rows[0].id, &actor(), now).await.is_err());
    let kinds: Vec<String> = store.audit_events().await.unwrap().into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds, ["team.created", "role_mapping.created", "role_mapping.deleted"]);
}
