//! Kubernetes audit events (`audit.k8s.io/v1` and `v1beta1`): an `EventList` as the API
//! server's webhook backend sends it, a single `Event`, or JSON lines from a log file. Items may
//! leave out `apiVersion`/`kind` (the API server does inside a batch); an item's own version wins
//! over the list's. Only facts are kept — never the request or response objects, which can carry
//! secrets; from a pod's request object only its container images are read.

use chrono::{DateTime, Utc};
use serde_json::Value;

/// One audit event, as facts.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AuditFact {
    pub api_version: String,
    pub audit_id: String,
    pub stage: String,
    pub verb: String,
    pub username: Option<String>,
    pub groups: Vec<String>,
    pub impersonated: Option<String>,
    pub resource: Option<String>,
    pub subresource: Option<String>,
    pub namespace: Option<String>,
    pub name: Option<String>,
    /// Container images of a pod being created (from its request object; nothing else is read).
    pub images: Vec<String>,
    pub source_ips: Vec<String>,
    pub user_agent: Option<String>,
    /// The response code (the verdict), and the authorizer's decision when annotated.
    pub code: Option<i64>,
    pub decision: Option<String>,
    pub time: DateTime<Utc>,
}

fn s(v: &Value) -> Option<String> {
    v.as_str().filter(|x| !x.is_empty()).map(str::to_string)
}

fn time(v: &Value) -> Option<DateTime<Utc>> {
    v.as_str().and_then(|t| DateTime::parse_from_rfc3339(t).ok()).map(|t| t.with_timezone(&Utc))
}

/// True when the body looks like audit events (for `drydock ingest` detection).
pub fn looks_like_audit(body: &[u8]) -> bool {
    let first = body.split(|b| *b == b'\n').find(|l| !l.iter().all(u8::is_ascii_whitespace));
    let Some(first) = first else { return false };
    match serde_json::from_slice::<Value>(first).or_else(|_| serde_json::from_slice::<Value>(body)) {
        Ok(v) => v["kind"] == "EventList" || v["kind"] == "Event" || (v.get("auditID").is_some() && v.get("verb").is_some()),
        Err(_) => false,
    }
}

/// Parses an `EventList`, one `Event`, or JSON lines of events. Errors name the line or item.
pub fn parse(body: &[u8]) -> Result<Vec<AuditFact>, String> {
    let facts = parse_facts(body)?;
    for (i, f) in facts.iter().enumerate() {
        use crate::domain::check_len;
        for (field, v, max) in [
            ("auditID", Some(&f.audit_id), 256),
            ("stage", Some(&f.stage), 256),
            ("verb", Some(&f.verb), 256),
            ("user.username", f.username.as_ref(), 1024),
            ("impersonatedUser", f.impersonated.as_ref(), 1024),
            ("objectRef.resource", f.resource.as_ref(), 1024),
            ("objectRef.subresource", f.subresource.as_ref(), 1024),
            ("objectRef.namespace", f.namespace.as_ref(), 1024),
            ("objectRef.name", f.name.as_ref(), 1024),
            ("userAgent", f.user_agent.as_ref(), 1024),
        ] {
            check_len(&format!("events[{i}].{field}"), v.map(String::as_str).unwrap_or(""), max)?;
        }
    }
    Ok(facts)
}

fn parse_facts(body: &[u8]) -> Result<Vec<AuditFact>, String> {
    let text = std::str::from_utf8(body).map_err(|_| "the body is not UTF-8 text".to_string())?;
    // JSON escapes NUL as \u0000: only then is the exact field looked for (PostgreSQL cannot keep it).
    if text.contains("\\u0000") {
        let bad = |v: &Value| crate::domain::find_nul(v);
        let found = match serde_json::from_str::<Value>(text) {
            Ok(v) => bad(&v),
            Err(_) => text
                .lines()
                .enumerate()
                .find_map(|(i, l)| serde_json::from_str::<Value>(l).ok().and_then(|v| bad(&v)).map(|p| format!("line {}: {p}", i + 1))),
        };
        if let Some(at) = found {
            return Err(format!("{at}: contains a NUL character"));
        }
    }
    match serde_json::from_str::<Value>(text) {
        Ok(v) if v["kind"] == "EventList" => {
            let version = s(&v["apiVersion"]).unwrap_or_else(|| "audit.k8s.io/v1".into());
            let items = v["items"].as_array().ok_or("EventList: items is missing or not a list")?;
            items.iter().enumerate().map(|(i, e)| fact(e, &version).map_err(|m| format!("items[{i}]: {m}"))).collect()
        }
        Ok(v) => Ok(vec![fact(&v, "audit.k8s.io/v1")?]),
        Err(_) => text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(n, l)| {
                let v: Value = serde_json::from_str(l).map_err(|e| format!("line {}: not JSON: {e}", n + 1))?;
                fact(&v, "audit.k8s.io/v1").map_err(|m| format!("line {}: {m}", n + 1))
            })
            .collect(),
    }
}

fn fact(e: &Value, list_version: &str) -> Result<AuditFact, String> {
    if !e.is_object() {
        return Err("not an audit event object".into());
    }
    if let Some(k) = e["kind"].as_str() {
        if k != "Event" {
            return Err(format!("kind {k:?} is not an audit Event"));
        }
    }
    let api_version = s(&e["apiVersion"]).unwrap_or_else(|| list_version.to_string());
    if !matches!(api_version.as_str(), "audit.k8s.io/v1" | "audit.k8s.io/v1beta1") {
        return Err(format!("apiVersion {api_version:?} is not audit.k8s.io/v1 or v1beta1"));
    }
    let audit_id = s(&e["auditID"]).ok_or("auditID is missing")?;
    let verb = s(&e["verb"]).ok_or("verb is missing")?;
    let obj = &e["objectRef"];
    let resource = s(&obj["resource"]);
    // Images of a pod being created: the one fact read from a request object.
    let images = if resource.as_deref() == Some("pods") && verb == "create" {
        let spec = &e["requestObject"]["spec"];
        ["initContainers", "containers", "ephemeralContainers"]
            .iter()
            .flat_map(|k| spec[k].as_array().into_iter().flatten())
            .filter_map(|c| s(&c["image"]))
            .collect()
    } else {
        vec![]
    };
    let time = time(&e["stageTimestamp"])
        .or_else(|| time(&e["requestReceivedTimestamp"]))
        .or_else(|| time(&e["timestamp"]))
        .or_else(|| time(&e["metadata"]["creationTimestamp"]))
        .ok_or("no timestamp (stageTimestamp, requestReceivedTimestamp or timestamp)")?;
    Ok(AuditFact {
        api_version,
        audit_id,
        stage: s(&e["stage"]).unwrap_or_else(|| "ResponseComplete".into()),
        verb,
        username: s(&e["user"]["username"]),
        groups: e["user"]["groups"].as_array().into_iter().flatten().filter_map(s).collect(),
        impersonated: s(&e["impersonatedUser"]["username"]),
        resource,
        subresource: s(&obj["subresource"]),
        namespace: s(&obj["namespace"]),
        name: s(&obj["name"]),
        images,
        source_ips: e["sourceIPs"].as_array().into_iter().flatten().filter_map(s).collect(),
        user_agent: s(&e["userAgent"]),
        code: e["responseStatus"]["code"].as_i64(),
        decision: s(&e["annotations"]["authorization.k8s.io/decision"]),
        time,
    })
}
