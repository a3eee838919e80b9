//! A policy's form (`app::pages::policy_form`) read back into the policy's parameters: each
//! `t:KEY` names a parameter and its type, `p:KEY…` its value (a list's rows `p:KEY:ROW`, a table's
//! cells `p:KEY:ROW:COLUMN`). A value that is not of its type is refused naming the parameter;
//! the policy's own validation then judges the values.

use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The most rows a list or table parameter may be sent with (the denylist holds at most 1,000).
const MAX_ROWS: usize = 2000;

/// The form's parts: whether it is on, its scope, and its parameters (null: none were sent).
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyFormInput {
    pub enabled: bool,
    pub scope: String,
    pub params: Value,
}

/// (field, what is wrong).
pub type FormError = (String, String);

fn row_index(key: &str, row: &str) -> Result<usize, FormError> {
    row.parse::<usize>()
        .ok()
        .filter(|i| *i < MAX_ROWS)
        .ok_or_else(|| (format!("params.{key}"), format!("row {row:?} is not a row number below {MAX_ROWS}")))
}

/// Reads the form's fields (in any order).
pub fn read(fields: &[(String, String)]) -> Result<PolicyFormInput, FormError> {
    let mut types: BTreeMap<&str, &str> = BTreeMap::new();
    let mut scalars: BTreeMap<&str, &str> = BTreeMap::new();
    let mut lists: BTreeMap<&str, BTreeMap<usize, &str>> = BTreeMap::new();
    let mut tables: BTreeMap<&str, BTreeMap<usize, BTreeMap<&str, &str>>> = BTreeMap::new();
    let (mut enabled, mut scope) = (false, "all".to_string());
    for (name, value) in fields {
        let parts: Vec<&str> = name.split(':').collect();
        match parts.as_slice() {
            ["enabled"] => enabled = true,
            ["scope"] => scope = value.clone(),
            ["t", key] => {
                types.insert(key, value.as_str());
            }
            ["p", key] => {
                scalars.insert(key, value.as_str());
            }
            ["p", key, row] => {
                lists.entry(key).or_default().insert(row_index(key, row)?, value.as_str());
            }
            ["p", key, row, column] => {
                tables.entry(key).or_default().entry(row_index(key, row)?).or_default().insert(column, value.as_str());
            }
            _ => {}
        }
    }
    if types.is_empty() {
        return Ok(PolicyFormInput { enabled, scope, params: Value::Null });
    }
    let mut params = Map::new();
    for (key, ty) in types {
        let field = || format!("params.{key}");
        let text = scalars.get(key).map(|s| s.trim()).unwrap_or_default();
        let value = match ty {
            "bool" => Value::Bool(scalars.contains_key(key)),
            "text" => Value::String(text.to_string()),
            "int" if text.is_empty() => Value::Null,
            "int" => Value::from(text.parse::<i64>().map_err(|_| (field(), format!("{text:?} is not a whole number")))?),
            "float" if text.is_empty() => Value::Null,
            "float" => {
                let f = text.parse::<f64>().ok().filter(|f| f.is_finite()).ok_or_else(|| (field(), format!("{text:?} is not a number")))?;
                serde_json::Number::from_f64(f).map(Value::Number).unwrap_or(Value::Null)
            }
            "list" => Value::Array(
                lists
                    .remove(key)
                    .unwrap_or_default()
                    .into_values()
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(|v| Value::String(v.into()))
                    .collect(),
            ),
            "rows" => Value::Array(
                tables
                    .remove(key)
                    .unwrap_or_default()
                    .into_values()
                    .filter(|cells| !cells.contains_key("_remove") && cells.values().any(|v| !v.trim().is_empty()))
                    .map(|cells| Value::Object(cells.into_iter().map(|(c, v)| (c.to_string(), Value::String(v.trim().into()))).collect()))
                    .collect(),
            ),
            other => return Err((field(), format!("the form names an unknown type {other:?}"))),
        };
        params.insert(key.to_string(), value);
    }
    Ok(PolicyFormInput { enabled, scope, params: Value::Object(params) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn typed_fields_become_the_parameters_and_removed_or_blank_rows_go() {
        let f = form(&[
            ("enabled", "on"),
            ("scope", "team:payments"),
            ("t:critical_days", "int"),
            ("p:critical_days", " 5 "),
            ("t:kev_days", "int"),
            ("p:kev_days", ""),
            ("t:epss_threshold", "float"),
            ("p:epss_threshold", "0.25"),
            ("t:only_fixable", "bool"),
            ("t:approved", "list"),
            ("p:approved:1", "docker.io/library/debian"),
            ("p:approved:0", "gcr.io/distroless/base"),
            ("p:approved:2", "  "),
            ("t:entries", "rows"),
            ("p:entries:0:label", "bash"),
            ("p:entries:0:package", "pkg:deb/debian/bash"),
            ("p:entries:1:label", "gone"),
            ("p:entries:1:_remove", "on"),
            ("p:entries:2:label", ""),
        ]);
        let got = read(&f).unwrap();
        assert!(got.enabled);
        assert_eq!(got.scope, "team:payments");
        assert_eq!(
            got.params,
            serde_json::json!({
                "critical_days": 5, "kev_days": null, "epss_threshold": 0.25, "only_fixable": false,
                "approved": ["gcr.io/distroless/base", "docker.io/library/debian"],
                "entries": [{"label": "bash", "package": "pkg:deb/debian/bash"}],
            })
        );
    }

    #[test]
    fn a_value_not_of_its_type_is_refused_naming_the_parameter() {
        let e = read(&form(&[("t:high_days", "int"), ("p:high_days", "thirty")])).unwrap_err();
        assert_eq!(e.0, "params.high_days");
        let e = read(&form(&[("t:epss_threshold", "float"), ("p:epss_threshold", "NaN")])).unwrap_err();
        assert_eq!(e.0, "params.epss_threshold");
        let e = read(&form(&[("t:approved", "list"), ("p:approved:99999", "x")])).unwrap_err();
        assert_eq!(e.0, "params.approved");
        assert_eq!(read(&form(&[("scope", "all")])).unwrap().params, Value::Null, "a policy without parameters");
    }
}
