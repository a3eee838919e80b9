//! Maven versions, ordered as Maven's `ComparableVersion`: items split on `.`, `-` and
//! digit/letter changes (`-` and a change open a sub-list); numbers above qualifiers; the
//! qualifiers `alpha` < `beta` < `milestone` < `rc` = `cr` < `snapshot` < (release: "", `ga`,
//! `final`) < `sp` < any other (by text); trailing zeros and empty qualifiers do not count.

use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Int(u128),
    Str(String),
    List(Vec<Item>),
}

const QUALIFIERS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];

fn qualifier_rank(s: &str) -> (usize, &str) {
    match QUALIFIERS.iter().position(|q| *q == s) {
        Some(i) => (i, ""),
        None => (QUALIFIERS.len(), s),
    }
}

fn item(buf: &str, followed_by_digit: bool) -> Item {
    if !buf.is_empty() && buf.bytes().all(|c| c.is_ascii_digit()) {
        // Versions longer than u128 are not real; saturate rather than fail.
        return Item::Int(buf.parse().unwrap_or(u128::MAX));
    }
    let s = match (buf, followed_by_digit) {
        ("a", true) => "alpha",
        ("b", true) => "beta",
        ("m", true) => "milestone",
        ("ga" | "final", _) => "",
        ("cr", _) => "rc",
        (other, _) => other,
    };
    Item::Str(s.to_string())
}

/// Removes trailing "null" items (0, "", empty lists) up to the last sub-list.
fn normalize(list: &mut Vec<Item>) {
    while let Some(last) = list.last() {
        let null = match last {
            Item::Int(0) => true,
            Item::Str(s) => s.is_empty(),
            Item::List(l) => l.is_empty(),
            Item::Int(_) => false,
        };
        if !null {
            break;
        }
        list.pop();
    }
}

/// Parses into nested lists, as `ComparableVersion.parseVersion`.
fn parse(v: &str) -> Result<Item, String> {
    let v = v.trim().to_lowercase();
    if v.is_empty() {
        return Err("an empty version".into());
    }
    if v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("{v:?} holds spaces or control characters"));
    }
    // A stack of lists: the path from the root to the current one.
    let mut stack: Vec<Vec<Item>> = vec![vec![]];
    let bytes = v.as_bytes();
    let mut start = 0;
    let mut is_digit = false;
    let open = |stack: &mut Vec<Vec<Item>>| {
        let mut cur = stack.pop().unwrap_or_default();
        normalize(&mut cur);
        stack.push(cur);
        stack.push(vec![]);
    };
    for (idx, &ch) in bytes.iter().enumerate() {
        let cur = stack.last_mut().expect("the root list");
        match ch {
            b'.' | b'-' => {
                if idx == start {
                    cur.push(Item::Int(0));
                } else {
                    cur.push(item(&v[start..idx], false));
                }
                start = idx + 1;
                if ch == b'-' {
                    open(&mut stack);
                }
            }
            c if c.is_ascii_digit() => {
                if !is_digit && idx > start {
                    cur.push(item(&v[start..idx], true));
                    open(&mut stack);
                    start = idx;
                }
                is_digit = true;
            }
            _ => {
                if is_digit && idx > start {
                    cur.push(item(&v[start..idx], false));
                    open(&mut stack);
                    start = idx;
                }
                is_digit = false;
            }
        }
    }
    if v.len() > start {
        let rest = item(&v[start..], false);
        stack.last_mut().expect("the root list").push(rest);
    }
    // Close the lists from the innermost out: the innermost and the root are normalized at the
    // end, the ones between were when their sub-list opened (as the reference implementation).
    let mut first = true;
    while stack.len() > 1 {
        let mut inner = stack.pop().unwrap_or_default();
        if first {
            normalize(&mut inner);
            first = false;
        }
        stack.last_mut().expect("a parent").push(Item::List(inner));
    }
    let mut root = stack.pop().unwrap_or_default();
    normalize(&mut root);
    Ok(Item::List(root))
}

/// Compares an item with another or with nothing (`None`: the list ended).
fn cmp(a: &Item, b: Option<&Item>) -> Ordering {
    match (a, b) {
        (Item::Int(x), None) => x.cmp(&0),
        (Item::Int(x), Some(Item::Int(y))) => x.cmp(y),
        (Item::Int(_), Some(_)) => Ordering::Greater,
        (Item::Str(s), None) => qualifier_rank(s).cmp(&qualifier_rank("")),
        (Item::Str(_), Some(Item::Int(_) | Item::List(_))) => Ordering::Less,
        (Item::Str(s), Some(Item::Str(t))) => qualifier_rank(s).cmp(&qualifier_rank(t)),
        (Item::List(l), None) => l.first().map_or(Ordering::Equal, |f| cmp(f, None)),
        (Item::List(_), Some(Item::Int(_))) => Ordering::Less,
        (Item::List(_), Some(Item::Str(_))) => Ordering::Greater,
        (Item::List(l), Some(Item::List(m))) => {
            for k in 0..l.len().max(m.len()) {
                let ord = match (l.get(k), m.get(k)) {
                    (Some(x), y) => cmp(x, y),
                    (None, Some(y)) => cmp(y, None).reverse(),
                    (None, None) => Ordering::Equal,
                };
                if ord != Ordering::Equal {
                    return ord;
                }
            }
            Ordering::Equal
        }
    }
}

pub fn validate(v: &str) -> Result<(), String> {
    parse(v).map(|_| ())
}

pub fn compare(a: &str, b: &str) -> Result<Ordering, String> {
    Ok(cmp(&parse(a)?, Some(&parse(b)?)))
}
