//! `/admission`: how the admission webhook treats each namespace and environment, unknown images,
//! and which policies it enforces with how many days of grace; security edits them with a plain form.

use super::layout::LoadError;
use crate::server_fns::get_admission_page;
use crate::types::{AdmissionMode, AdmissionPage, UnknownImages};
use leptos::prelude::*;
use leptos_meta::Title;
use std::collections::BTreeMap;

fn lines(m: &BTreeMap<String, AdmissionMode>) -> String {
    m.iter().map(|(k, v)| format!("{k}={}\n", v.as_str())).collect()
}

fn mode_select(name: &'static str, id: &'static str, current: AdmissionMode) -> AnyView {
    view! {
        <select name=name id=id>
            {[AdmissionMode::Off, AdmissionMode::Warn, AdmissionMode::Enforce].into_iter().map(|m| view! {
                <option value=m.as_str() selected=m == current>{m.as_str()}</option>
            }).collect_view()}
        </select>
    }
    .into_any()
}

fn settings_form(p: AdmissionPage) -> AnyView {
    let s = p.settings;
    let deny = s.unknown_images == UnknownImages::Deny;
    let policies = p.policies.into_iter().map(|(id, title)| {
        let e = s.policies.get(&id).copied();
        let (enforce, grace) = (e.is_some_and(|e| e.enforce), e.map_or(0, |e| e.grace_days));
        view! {
            <tr>
                <td><label><input type="checkbox" name=format!("enforce:{id}") checked=enforce/>" "{title}</label></td>
                <td><input type="number" min="0" max="365" name=format!("grace:{id}") value=grace.to_string() aria-label=format!("grace days of {id}")/></td>
            </tr>
        }
    }).collect_view();
    view! {
        <form method="post" action="/admin/admission" class="stacked">
            <input type="hidden" name="seen" value=p.settings_version.clone()/>
            <label for="adm-default">"Default mode"</label>
            {mode_select("default_mode", "adm-default", s.default_mode)}
            <label for="adm-ns">"Namespaces (one NAME=off|warn|enforce a line; wins over the environment)"</label>
            <textarea id="adm-ns" name="namespaces" rows="4">{lines(&s.namespaces)}</textarea>
            <label for="adm-env">"Environments (one NAME=off|warn|enforce a line; wins over the default)"</label>
            <textarea id="adm-env" name="environments" rows="3">{lines(&s.environments)}</textarea>
            <label for="adm-unknown">"Images Drydock has never seen, in enforce"</label>
            <select name="unknown_images" id="adm-unknown">
                <option value="allow" selected=!deny>"allow (with a warning)"</option>
                <option value="deny" selected=deny>"deny"</option>
            </select>
            <table class="span">
                <thead><tr><th>"Enforce this policy at admission"</th><th>"Grace (days from when it started failing)"</th></tr></thead>
                <tbody>{policies}</tbody>
            </table>
            <button type="submit">"Save"</button>
        </form>
    }
    .into_any()
}

fn settings_read(p: &AdmissionPage) -> AnyView {
    let s = &p.settings;
    let named =
        |m: &BTreeMap<String, AdmissionMode>| if m.is_empty() { "none".to_string() } else { lines(m).trim_end().replace('\n', ", ") };
    let enforced: Vec<String> =
        s.policies.iter().filter(|(_, e)| e.enforce).map(|(id, e)| format!("{id} ({} days of grace)", e.grace_days)).collect();
    view! {
        <dl class="facts">
            <dt>"Default mode"</dt><dd>{s.default_mode.as_str()}</dd>
            <dt>"Namespaces"</dt><dd>{named(&s.namespaces)}</dd>
            <dt>"Environments"</dt><dd>{named(&s.environments)}</dd>
            <dt>"Unknown images in enforce"</dt><dd>{if s.unknown_images == UnknownImages::Deny { "denied" } else { "allowed with a warning" }}</dd>
            <dt>"Policies enforced"</dt><dd>{if enforced.is_empty() { "the vulnerability SLA only".to_string() } else { format!("the vulnerability SLA, {}", enforced.join(", ")) }}</dd>
        </dl>
    }
    .into_any()
}

fn list(v: &[String], empty: &str) -> String {
    if v.is_empty() {
        empty.to_string()
    } else {
        v.join(", ")
    }
}

fn vendor_table(entries: Vec<crate::types::VendorImage>) -> AnyView {
    if entries.is_empty() {
        return view! { <p class="muted">"No vendor image is registered (PUT /api/v1/vendor-images)."</p> }.into_any();
    }
    let rows = entries
        .into_iter()
        .map(|e| {
            let owner = e.owner_team.clone().map(|t| format!("team {t}")).or(e.owner_person.clone()).unwrap_or_default();
            let places = format!(
                "teams: {}; namespaces: {}; environments: {}{}",
                list(&e.allowed_teams, "any"),
                list(&e.allowed_namespaces, "any"),
                list(&e.environments, "any"),
                if e.not_environments.is_empty() { String::new() } else { format!(", never {}", e.not_environments.join(", ")) }
            );
            view! { <tr><td><code>{e.repository}</code></td><td>{e.vendor}</td><td>{owner}</td><td>{places}</td><td>{e.licence}</td></tr> }
        })
        .collect_view();
    view! {
        <table>
            <thead><tr><th>"Repository"</th><th>"Vendor"</th><th>"Responsible for updates"</th><th>"May run"</th><th>"Licence"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }.into_any()
}

/// One editable row of the register (`i`: its row number; a blank row adds an entry).
fn vendor_row(i: usize, e: Option<&crate::types::VendorImage>) -> AnyView {
    let text = |f: fn(&crate::types::VendorImage) -> String| e.map(f).unwrap_or_default();
    let cell = move |field: &'static str, value: String, label: &'static str| {
        view! { <td><input type="text" name=format!("v:{i}:{field}") value=value aria-label=format!("{label}, row {}", i + 1)/></td> }
    };
    view! {
        <tr>
            {cell("repository", text(|e| e.repository.clone()), "repository")}
            {cell("vendor", text(|e| e.vendor.clone()), "vendor")}
            {cell("owner", text(|e| e.owner_team.clone().or(e.owner_person.clone()).unwrap_or_default()), "owner")}
            {cell("allowed_teams", text(|e| e.allowed_teams.join(", ")), "allowed teams")}
            {cell("allowed_namespaces", text(|e| e.allowed_namespaces.join(", ")), "allowed namespaces")}
            {cell("environments", text(|e| e.environments.join(", ")), "environments")}
            {cell("not_environments", text(|e| e.not_environments.join(", ")), "never in")}
            {cell("licence", text(|e| e.licence.clone()), "licence")}
            <td>{e.map(|_| view! { <input type="checkbox" name=format!("v:{i}:remove") aria-label=format!("remove row {}", i + 1)/> })}</td>
        </tr>
    }
    .into_any()
}

/// The register as a table of fields (plain HTML: works without JavaScript), two blank rows to add.
fn vendor_form(entries: &[crate::types::VendorImage], seen: String) -> AnyView {
    let rows = entries.iter().enumerate().map(|(i, e)| vendor_row(i, Some(e))).collect_view();
    let blank = (entries.len()..entries.len() + 2).map(|i| vendor_row(i, None)).collect_view();
    view! {
        <form method="post" action="/admin/vendor-images" class="vendor-form">
            <input type="hidden" name="seen" value=seen/>
            <p class="muted">"Owner: a team, or a person's e-mail address. Lists are comma-separated; empty: any."</p>
            <div class="scroll-x">
                <table class="fields">
                    <thead><tr><th>"Repository (or prefix/*)"</th><th>"Vendor"</th><th>"Owner"</th><th>"Teams"</th><th>"Namespaces"</th><th>"Must run in"</th><th>"Never in"</th><th>"Licence"</th><th>"Remove"</th></tr></thead>
                    <tbody>{rows}{blank}</tbody>
                </table>
            </div>
            <button type="submit">"Save the register"</button>
        </form>
    }
    .into_any()
}

#[component]
pub fn AdmissionSettingsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_admission_page());
    view! {
        <Title text="Admission"/>
        <h1>"Admission: force the update, with grace"</h1>
        <p class="muted">"The Kubernetes API server asks Drydock before a workload starts. Inside a campaign's deadline or a policy's grace it is allowed with a warning; past them it is denied where the mode is enforce, warned where it is warn. Approved exceptions hold until they end."</p>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                    Ok(p) => view! {
                        <section class="card">
                            <h2>"In force"</h2>
                            {settings_read(&p)}
                        </section>
                        {p.may_edit.then(|| view! { <section class="card"><h2>"Change"</h2>{settings_form(p.clone())}</section> }.into_any())}
                        <section class="card" id="vendor-images">
                            <h2>"Vendor images"</h2>
                            <p class="muted">"Images adopted from vendors: who is responsible for their updates, and where they may run (the policy vendor-images and admission judge by it)."</p>
                            {if p.may_edit { vendor_form(&p.vendor, p.vendor_version.clone()) } else { vendor_table(p.vendor.clone()) }}
                        </section>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}
