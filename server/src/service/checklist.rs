//! The enterprise Docker checklist answered from the stored estate: each question with a status,
//! an answer people read, its figures, and evidence — links to the API lists whose `total` is the
//! count given (as the caller may see them). A question Drydock cannot answer says why and what
//! would answer it.

use super::{Result, Service};
use crate::auth::Principal;
use crate::store::capabilities::*;
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
        let mut items = vec![self.registry_auth(who).await?];
        items.extend(self.scanning_items(who).await?);
        items.push(self.dev_libraries(who).await?);
        items.push(self.vendor_owner(who).await?);
        items.extend(self.policy_items(who).await?);
        items.extend(self.patch_items(who).await?);
        items.extend(self.runtime_items(who).await?);
        items.extend(self.forensics_items(who).await?);
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

/// `href` with the total of its list.
fn link(href: &str, count: i64) -> Evidence {
    Evidence { href: href.into(), count }
}

impl Service {
    async fn registry_auth(&self, who: Option<&Principal>) -> Result<ChecklistItem> {
        let registries = self.registries(who).await?;
        let total = registries.len() as i64;
        let anonymous = registries.iter().filter(|r| r.anonymous()).count() as i64;
        let insecure = registries.iter().filter(|r| r.insecure).count() as i64;
        let i = item("registry-auth", "registry", "Do the registries require authentication?");
        if total == 0 {
            return Ok(unknown(i, "No registry is configured; Drydock knows images only from scanner reports. Adding the registries (Administration → Registries) would answer this."));
        }
        let mut i = judged(
            i,
            anonymous + insecure,
            format!(
                "{} with credentials; {} without any (anyone who reaches {} can pull); {} without TLS verification.",
                count(total - anonymous, "registry is read", "registries are read"),
                count(anonymous, "is read", "are read"),
                if anonymous == 1 { "it" } else { "them" },
                count(insecure, "is read", "are read")
            ),
        );
        i.figures = json!({ "registries": total, "anonymous": anonymous, "insecure": insecure });
        i.evidence = vec![link("/api/v1/registries?anonymous=true", anonymous), link("/api/v1/registries", total)];
        Ok(i)
    }

    async fn dev_libraries(&self, who: Option<&Principal>) -> Result<ChecklistItem> {
        let p = super::require(who, crate::auth::Action::ReadEstate, None)?;
        let teams = p.visible_teams();
        let libraries = self.outdated_libraries(who, Some(1), None).await?.total;
        let images = self.store.images_with_outdated_libraries(teams.as_deref()).await?;
        let denied = self.policy_results(who, "denylisted-packages", true, Some(1), None).await?.total;
        let mut i = judged(
            item("dev-libraries", "image scanning", "Do images carry wrong or out-of-date application libraries?"),
            libraries + denied,
            format!(
                "{} in {} with a vulnerability a later version fixes; {} a package the denylist forbids.",
                count(libraries, "application library version is", "application library versions are"),
                count(images, "image", "images"),
                count(denied, "image carries", "images carry")
            ),
        );
        i.figures = json!({ "outdated_library_versions": libraries, "images": images, "denylisted_images": denied });
        i.evidence = vec![
            link("/api/v1/outdated-libraries", libraries),
            link("/api/v1/policy-results?policy=denylisted-packages&failing=true", denied),
        ];
        Ok(i)
    }

    async fn vendor_owner(&self, who: Option<&Principal>) -> Result<ChecklistItem> {
        let unowned = self.unowned_images(who, Some(1), None).await?.total;
        let unapproved = self.policy_results(who, "approved-registry", true, Some(1), None).await?.total;
        let registered = self.vendor_images(who).await?.0.total;
        let misplaced = self.policy_results(who, "vendor-images", true, Some(1), None).await?.total;
        let mut i = judged(
            item("vendor-owner", "third-party images", "Who is responsible for updating third-party images, and where may they run?"),
            unowned + misplaced,
            format!(
                "{} with its owner and where it may run; {} outside those places. {} no team by any ownership rule, so nobody is told to update {}; {} from a registry not on the approved list.",
                count(registered, "vendor image is registered", "vendor images are registered"),
                count(misplaced, "container runs one", "containers run them"),
                count(unowned, "image belongs to", "images belong to"),
                if unowned == 1 { "it" } else { "them" },
                count(unapproved, "image comes", "images come")
            ),
        );
        i.figures = json!({ "registered_vendor_images": registered, "containers_outside_their_places": misplaced,
            "unowned_images": unowned, "unapproved_registry_images": unapproved });
        i.evidence = vec![
            link("/api/v1/vendor-images", registered),
            link("/api/v1/policy-results?policy=vendor-images&failing=true", misplaced),
            link("/api/v1/images?owner=none", unowned),
            link("/api/v1/policy-results?policy=approved-registry&failing=true", unapproved),
        ];
        Ok(i)
    }

    async fn patch_items(&self, who: Option<&Principal>) -> Result<Vec<ChecklistItem>> {
        let notices = self.team_notices(who).await?;
        let teams = notices.total;
        let silent = notices.items.iter().filter(|n| n.team.is_some() && n.contact_levels.is_empty()).count() as i64;
        let gave_up: i64 = notices.items.iter().map(|n| n.gave_up_30d).sum();
        let sent: i64 = notices.items.iter().map(|n| n.sent_30d).sum();
        let mut tell = judged(
            item("patch-tell", "patching", "How are teams told which images to update?"),
            silent + gave_up,
            format!(
                "Each team's required-updates page lists its items; e-mail and webhooks escalate overdue ones. {} outstanding items; {}; {} sent and {} given up in {} days.",
                count(teams, "team has", "teams have"),
                count(silent, "has no contact of its own", "have no contact of their own"),
                count(sent, "message", "messages"),
                gave_up,
                super::evidence::NOTICE_DAYS
            ),
        );
        tell.figures =
            json!({ "teams_with_outstanding_items": teams, "teams_without_contacts": silent, "sent_30d": sent, "gave_up_30d": gave_up });
        tell.evidence = vec![link("/api/v1/team-notices", teams)];
        let overdue = self.overdue_items(who, Some(1), None).await?.total;
        let campaigns = self.campaigns(who, Some(1), None).await?.total;
        let mut force = judged(
            item("patch-force", "patching", "How are teams made to update: deadlines, escalation, what is overdue?"),
            overdue,
            format!(
                "{} set deadlines per image; overdue items climb the escalation ladder until the fix is seen running. {} past {} deadline.",
                count(campaigns, "campaign", "campaigns"),
                count(overdue, "item is", "items are"),
                if overdue == 1 { "its" } else { "their" }
            ),
        );
        force.figures = json!({ "campaigns": campaigns, "overdue_items": overdue });
        force.evidence = vec![link("/api/v1/overdue-items", overdue), link("/api/v1/campaigns", campaigns)];
        Ok(vec![tell, force])
    }

    async fn forensics_items(&self, who: Option<&Principal>) -> Result<Vec<ChecklistItem>> {
        let p = super::require(who, crate::auth::Action::ReadEstate, None)?;
        let a = self.store.attribution(p.visible_teams().as_deref()).await?;
        let pushes = self.pushes(who, Some(1), None).await?.total;
        let mut built = item("who-built", "forensics", "Who built and pushed each image?");
        if pushes == 0 && a.labelled == 0 {
            built = unknown(
                built,
                "No registry has notified Drydock of a push and no image's labels name its source: registry notifications (POST /api/v1/registries/{name}/events) and OCI source/revision labels would answer this.",
            );
        } else {
            let unattributed = a.images - a.attributed;
            built = judged(
                built,
                unattributed,
                format!(
                    "{} by a notified push naming who pushed, {} by source labels; {} neither.",
                    count(a.pushed, "image is attributed", "images are attributed"),
                    a.labelled,
                    count(unattributed, "image has", "images have")
                ),
            );
            built.evidence = vec![link("/api/v1/pushes", pushes)];
        }
        built.figures =
            json!({ "images": a.images, "pushed": a.pushed, "labelled": a.labelled, "attributed": a.attributed, "pushes": pushes });
        let access = self.pod_access(who, false, Some(1), None).await?.total;
        let exec = self.pod_access(who, true, Some(1), None).await?.total;
        let mut ran = item("who-ran", "forensics", "Who ran containers, or exec'd into them?");
        if access == 0 {
            ran = unknown(
                ran,
                "No audited action that creates, changes, deletes or enters a pod was received: the clusters' Kubernetes audit logs (at least Metadata level for pods and their exec, attach and portforward subresources) sent to POST /api/v1/audit/k8s would answer this.",
            );
        } else {
            ran = judged(
                ran,
                exec,
                format!(
                    "{} on pods, each with who, from where and when; {exec} of them exec'd, attached or port-forwarded into a container.",
                    count(access, "audited action", "audited actions"),
                ),
            );
            ran.evidence = vec![link("/api/v1/pod-access", access), link("/api/v1/pod-access?exec=true", exec)];
        }
        ran.figures = json!({ "pod_actions": access, "exec": exec });
        Ok(vec![built, ran])
    }
}
