//! The enterprise Docker checklist answered from the stored estate: each question with a status,
//! an answer people read, its figures, and evidence — links to the API lists whose `total` is the
//! count given (as the caller may see them). A question Drydock cannot answer says why and what
//! would answer it.

use super::{Result, Service};
use crate::auth::Principal;
use crate::store::WorkloadFilter;
use app::types::{Checklist, ChecklistItem, Evidence, SearchQuery};
use serde_json::json;

/// The denylist's ranges a question is about: (package URL, `vers` range).
const SHELLSHOCK: [(&str, &str); 2] = [("pkg:deb/debian/bash", "vers:deb/<4.3-9.1"), ("pkg:rpm/centos/bash", "vers:rpm/<4.2.46-12.el7")];
const OUTDATED_SSL: [(&str, &str); 3] = [
    ("pkg:deb/debian/openssl", "vers:deb/<1.1.1"),
    ("pkg:deb/debian/libssl1.0.2", "vers:deb/*"),
    ("pkg:apk/alpine/openssl", "vers:apk/<1.1.1"),
];

use app::format::count;

fn encode(s: &str) -> String {
    app::format::query_value(s)
}

fn item(id: &str, section: &str, question: &str) -> ChecklistItem {
    ChecklistItem {
        id: id.into(),
        section: section.into(),
        question: question.into(),
        status: "unknown".into(),
        answer: String::new(),
        figures: json!({}),
        evidence: vec![],
    }
}

/// `ok` when nothing is found, `attention` otherwise.
fn judged(mut i: ChecklistItem, found: i64, answer: String) -> ChecklistItem {
    i.status = if found == 0 { "ok" } else { "attention" }.into();
    i.answer = answer;
    i
}

fn unknown(mut i: ChecklistItem, why: &str) -> ChecklistItem {
    i.status = "unknown".into();
    i.answer = why.into();
    i
}

impl Service {
    /// The checklist as the caller may see the estate.
    #[tracing::instrument(skip_all)]
    pub async fn checklist(&self, who: Option<&Principal>) -> Result<Checklist> {
        let mut items = self.scanning_items(who).await?;
        items.extend(self.policy_items(who).await?);
        items.extend(self.runtime_items(who).await?);
        items.push(unknown(
            item("registry-rbac", "registry", "Who may push to and pull from each registry?"),
            "Drydock does not read a registry's access control; the registry's own authorization configuration (or its audit log sent to Drydock) would answer this.",
        ));
        items.push(unknown(
            item("files-changed", "runtime", "Which running containers changed files since they started?"),
            "Drydock sees images and what runs, not what a container writes; a runtime file-integrity sensor's events would answer this.",
        ));
        let total = items.len() as i64;
        Ok(Checklist { items, total })
    }

    /// Evidence of one estate search: its link and total.
    async fn searched(&self, who: Option<&Principal>, package: &str, range: &str) -> Result<Evidence> {
        let q = SearchQuery { package: Some(package.into()), range: Some(range.into()), limit: Some(1), ..Default::default() };
        let total = self.search(who, &q).await?.total;
        Ok(Evidence { href: format!("/api/v1/search?package={}&range={}", encode(package), encode(range)), count: total })
    }

    async fn scanning_items(&self, who: Option<&Principal>) -> Result<Vec<ChecklistItem>> {
        let mut out = Vec::new();
        for (id, question, ranges, what) in [
            ("shellshock", "Does any image carry a bash vulnerable to shellshock?", &SHELLSHOCK[..], "a shellshock bash"),
            (
                "outdated-ssl",
                "Does any image carry an out-of-date SSL library (OpenSSL before 1.1.1)?",
                &OUTDATED_SSL[..],
                "an OpenSSL before 1.1.1",
            ),
        ] {
            let mut evidence = Vec::new();
            for (package, range) in ranges {
                evidence.push(self.searched(who, package, range).await?);
            }
            let found: i64 = evidence.iter().map(|e| e.count).sum();
            let mut i =
                judged(item(id, "image scanning", question), found, format!("{} {what}.", count(found, "image carries", "images carry")));
            i.figures = json!({ "images": found });
            i.evidence = evidence;
            out.push(i);
        }
        let secrets = self.secrets(who, Some(1), None).await?.total;
        let mut i = judged(
            item("secrets", "secrets", "Are there secrets (keys, tokens, passwords) in image files?"),
            secrets,
            format!(
                "{} by the newest Trivy reports (where and what kind; never the secret).",
                count(secrets, "secret found", "secrets found")
            ),
        );
        i.figures = json!({ "secrets": secrets });
        i.evidence = vec![Evidence { href: "/api/v1/secrets".into(), count: secrets }];
        out.push(i);
        let risk = self.risk(who, None, Some(1), None).await?;
        let mut i = item("patch-identify", "patching", "Which images need updating, and which first?");
        i.status = if risk.total == 0 { "ok" } else { "attention" }.into();
        i.answer = format!(
            "{} by exposure (fix these first); each links to the images it affects.",
            count(risk.total, "vulnerability ranked", "vulnerabilities ranked")
        );
        i.figures = json!({ "ranked_vulnerabilities": risk.total });
        i.evidence = vec![Evidence { href: "/api/v1/risk".into(), count: risk.total }];
        out.push(i);
        Ok(out)
    }

    /// Questions a policy answers: its failing subjects are the evidence.
    async fn policy_items(&self, who: Option<&Principal>) -> Result<Vec<ChecklistItem>> {
        let mut out = Vec::new();
        for (id, section, question, policy, noun) in [
            (
                "promotion",
                "registry",
                "Are images promoted through the registries before they run in production?",
                "promoted-before-production",
                "production containers judged run an image not promoted",
            ),
            (
                "base-image",
                "image scanning",
                "Are images built on approved base images?",
                "approved-base-image",
                "images judged are on a base image not approved",
            ),
            ("signing", "build and signing", "Are images signed by a trusted key?", "signed", "images judged have no verified signature"),
            ("root", "runtime", "What runs as root?", "non-root", "containers judged run as root"),
            (
                "runtime-versions",
                "runtime",
                "Are nodes on supported kubelet and container runtime versions?",
                "node-versions",
                "nodes judged run an old kubelet or runtime",
            ),
        ] {
            let failing = self.policy_results(who, policy, true, Some(1), None).await?.total;
            let judged_subjects = self.policy_results(who, policy, false, Some(1), None).await?.total;
            let mut i = item(id, section, question);
            if judged_subjects == 0 {
                i = unknown(
                    i,
                    &format!("Nothing is judged by the policy {policy:?} yet (no subject in its scope, or its parameters list nothing)."),
                );
            } else {
                i = judged(i, failing, format!("{failing} of the {judged_subjects} {noun}."));
                i.evidence = vec![Evidence { href: format!("/api/v1/policy-results?policy={policy}&failing=true"), count: failing }];
            }
            i.figures = json!({ "judged": judged_subjects, "failing": failing });
            out.push(i);
        }
        Ok(out)
    }

    async fn runtime_items(&self, who: Option<&Principal>) -> Result<Vec<ChecklistItem>> {
        let mut out = Vec::new();
        let running = self.workloads(who, WorkloadFilter::default(), 1, 0).await?.total;
        let unaccounted = self.unaccounted(who).await?.len() as i64;
        let mut i = item("whats-running", "what is running", "What is running, and is each image matched to a registry?");
        i.status = if unaccounted == 0 { "ok" } else { "attention" }.into();
        i.answer = format!(
            "{} now; {} be accounted for.",
            count(running, "container runs", "containers run"),
            count(unaccounted, "running image cannot", "running images cannot")
        );
        i.figures = json!({ "containers": running, "unaccounted": unaccounted });
        i.evidence = vec![Evidence { href: "/api/v1/workloads".into(), count: running }];
        out.push(i);
        let mut i = judged(
            item("unaccounted", "what is running", "Does anything run that no registry holds or no scan covers?"),
            unaccounted,
            format!("{} in no configured registry or not scanned recently.", count(unaccounted, "running image is", "running images are")),
        );
        i.figures = json!({ "unaccounted": unaccounted });
        i.evidence = vec![Evidence { href: "/api/v1/unaccounted".into(), count: unaccounted }];
        out.push(i);
        let ended = WorkloadFilter { ended: true, ..Default::default() };
        let ever = self.workloads(who, ended, 1, 0).await?.total;
        let mut i = item("after-gone", "forensics", "What ran once and is gone now?");
        i.status = "ok".into();
        i.answer = format!(
            "{}, {} of them ended: each keeps its image, pod and times.",
            count(ever, "container recorded", "containers recorded"),
            ever - running
        );
        i.figures = json!({ "containers_recorded": ever, "ended": ever - running });
        i.evidence = vec![Evidence { href: "/api/v1/workloads?ended=true".into(), count: ever }];
        out.push(i);
        Ok(out)
    }
}
