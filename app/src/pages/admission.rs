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
                        <section class="card">
                            <h2>"Vendor images"</h2>
                            <p class="muted">"Images adopted from vendors: who is responsible for their updates, and where they may run (the policy vendor-images and admission judge by it)."</p>
                            {vendor_table(p.vendor.clone())}
                        </section>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}
