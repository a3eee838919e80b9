//! A policy's parameters as typed form fields, not JSON: numbers as number fields, switches as
//! check boxes, versions as text, lists (approved base images) and tables (denylist entries) as
//! rows one can fill in and remove. Plain HTML: it works without JavaScript. Each field's name
//! carries its parameter's path (`p:KEY`, `p:KEY:ROW`, `p:KEY:ROW:FIELD`) and a hidden `t:KEY`
//! its type, so the server rebuilds the parameters (`server::http::policy_form`) and the policy's
//! own validation names the field that is wrong.

use leptos::prelude::*;
use serde_json::Value;

/// Blank rows offered under a list or table, for new entries.
const BLANK_ROWS: usize = 2;

/// What people read for a parameter's key.
fn label(key: &str) -> String {
    match key {
        "critical_days" => "Critical: days to fix".into(),
        "high_days" => "High: days to fix".into(),
        "medium_days" => "Medium: days to fix".into(),
        "low_days" => "Low: days to fix".into(),
        "only_fixable" => "Only findings with a fix count".into(),
        "kev_days" => "Known exploited (KEV): days to fix (empty: no tighter deadline)".into(),
        "epss_threshold" => "EPSS at or above (0 to 1; empty: off)".into(),
        "epss_days" => "… then days to fix".into(),
        "approved" => "Approved base images (a name, or the first layer's sha256 diff ID)".into(),
        "entries" => "Denylisted package ranges".into(),
        "kubelet_min" => "Kubelet at least".into(),
        "containerd_min" => "containerd at least".into(),
        "max_age_days" => "Scanned within (days)".into(),
        other => other.replace('_', " "),
    }
}

/// The order people read a policy's parameters in (others after them, by name).
const ORDER: [&str; 13] = [
    "critical_days",
    "high_days",
    "medium_days",
    "low_days",
    "only_fixable",
    "kev_days",
    "epss_threshold",
    "epss_days",
    "approved",
    "entries",
    "kubelet_min",
    "containerd_min",
    "max_age_days",
];

/// The type of a scalar parameter: its value's, and a number when unset (every optional
/// parameter is a number).
fn scalar_type(key: &str, v: &Value) -> &'static str {
    match v {
        Value::Bool(_) => "bool",
        Value::String(_) => "text",
        Value::Number(n) if n.is_f64() || key.contains("threshold") => "float",
        _ if key.contains("threshold") => "float",
        _ => "int",
    }
}

/// The fields of one policy's parameters (an object; anything else has no fields).
#[component]
pub fn ParamFields(id: String, params: Value) -> impl IntoView {
    let Value::Object(map) = params else { return ().into_any() };
    let mut fields: Vec<(String, Value)> = map.into_iter().collect();
    fields.sort_by_key(|(k, _)| (ORDER.iter().position(|o| o == k).unwrap_or(ORDER.len()), k.clone()));
    fields
        .into_iter()
        .map(|(key, v)| {
            let field = format!("{id}-{key}");
            match v {
                Value::Array(items) if items.iter().all(Value::is_object) && !items.is_empty() || key == "entries" => {
                    view! { <RowsField field key items/> }.into_any()
                }
                Value::Array(items) => view! { <ListField field key items/> }.into_any(),
                v => view! { <ScalarField field key v/> }.into_any(),
            }
        })
        .collect_view()
        .into_any()
}

#[component]
fn ScalarField(field: String, key: String, v: Value) -> impl IntoView {
    let ty = scalar_type(&key, &v);
    let name = format!("p:{key}");
    let hidden = view! { <input type="hidden" name=format!("t:{key}") value=ty/> };
    match ty {
        "bool" => view! {
            {hidden}
            <label class="span"><input type="checkbox" id=field name=name checked=v.as_bool().unwrap_or(false)/>" "{label(&key)}</label>
        }
        .into_any(),
        "text" => view! {
            {hidden}
            <label for=field.clone()>{label(&key)}</label>
            <input id=field name=name value=v.as_str().unwrap_or_default().to_string() required/>
        }
        .into_any(),
        _ => {
            let value = if v.is_null() { String::new() } else { v.to_string() };
            let step = if ty == "float" { "any" } else { "1" };
            view! {
                {hidden}
                <label for=field.clone()>{label(&key)}</label>
                <input id=field name=name type="number" step=step min="0" value=value/>
            }
            .into_any()
        }
    }
}

/// A list of texts: one row each, blank rows to add, a row emptied is removed.
#[component]
fn ListField(field: String, key: String, items: Vec<Value>) -> impl IntoView {
    let rows: Vec<String> =
        items.iter().filter_map(|v| v.as_str().map(str::to_string)).chain(std::iter::repeat_n(String::new(), BLANK_ROWS)).collect();
    view! {
        <input type="hidden" name=format!("t:{key}") value="list"/>
        <fieldset class="param-rows" id=field.clone()>
            <legend>{label(&key)}</legend>
            <p class="muted small">"Empty a row to remove it; fill a blank row to add one."</p>
            {rows.into_iter().enumerate().map(|(i, v)| view! {
                <input name=format!("p:{key}:{i}") value=v aria-label=format!("{} {}", label(&key), i + 1)/>
            }).collect_view()}
        </fieldset>
    }
}

/// A table of objects (denylist entries): a row of text fields each, a remove box per row, blank
/// rows to add.
#[component]
fn RowsField(field: String, key: String, items: Vec<Value>) -> impl IntoView {
    let mut columns: Vec<String> = items.first().and_then(Value::as_object).map(|o| o.keys().cloned().collect()).unwrap_or_default();
    if columns.is_empty() {
        columns = vec!["label".into(), "package".into(), "range".into()];
    }
    let blank = Value::Object(Default::default());
    let rows: Vec<Value> = items.into_iter().chain(std::iter::repeat_n(blank, BLANK_ROWS)).collect();
    let head = columns.clone();
    view! {
        <input type="hidden" name=format!("t:{key}") value="rows"/>
        <fieldset class="param-rows" id=field>
            <legend>{label(&key)}</legend>
            <table class="data compact param-table">
                <thead><tr>{head.into_iter().map(|c| view! { <th scope="col">{c}</th> }).collect_view()}<th scope="col">"Remove"</th></tr></thead>
                <tbody>
                    {rows.into_iter().enumerate().map(|(i, row)| {
                        let cells = columns.iter().map(|c| {
                            let value = row.get(c).and_then(Value::as_str).unwrap_or_default().to_string();
                            view! { <td><input name=format!("p:{key}:{i}:{c}") value=value aria-label=format!("{c}, row {}", i + 1)/></td> }
                        }).collect_view();
                        view! {
                            <tr>{cells}<td><input type="checkbox" name=format!("p:{key}:{i}:_remove") aria-label=format!("remove row {}", i + 1)/></td></tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </fieldset>
    }
}
