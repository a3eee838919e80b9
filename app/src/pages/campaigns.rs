//! Patch campaigns: the list (security starts one there), a campaign with per-team progress, its
//! burndown and items; "My team's required updates" with acknowledge and exception forms; the
//! managers' overdue items; security's exception queue; the inbox, the delivery log, contacts.
//! Every action is a plain form (works without JavaScript).

use super::layout::LoadError;
use crate::format::{date, path_segment, short_digest};
use crate::server_fns::{get_campaign, get_campaign_items, get_campaigns, get_contacts, get_messages};
use crate::types::{CampaignItem, CampaignProgress, DeliveryMessage};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

fn state_label(s: &str) -> &'static str {
    match s {
        "open" => "open",
        "acknowledged" => "acknowledged",
        "pending_verification" => "pending verification",
        "excepted" => "excepted",
        "fixed" => "fixed",
        "retired" => "retired",
        _ => "unknown",
    }
}

fn progress_text(p: &CampaignProgress) -> String {
    format!(
        "{}: {} fixed, {} retired, {} open, {} acknowledged, {} pending verification, {} excepted; {} overdue",
        crate::format::count(p.total, "item", "items"),
        p.fixed,
        p.retired,
        p.open,
        p.acknowledged,
        p.pending_verification,
        p.excepted,
        p.overdue
    )
}

/// A bar of done (fixed + retired) over all items, with the numbers beside it.
pub(super) fn progress_bar(p: &CampaignProgress) -> impl IntoView {
    let done = p.fixed + p.retired;
    let pct = if p.total == 0 { 0 } else { done * 100 / p.total };
    view! {
        <span class="progress">
            <meter min="0" max=p.total.max(1).to_string() value=done.to_string() aria-label=format!("{done} of {} done", p.total)></meter>
            " " {format!("{done}/{} done ({pct}%)", p.total)}
            {(p.overdue > 0).then(|| view! { " · " <strong class="overdue">{format!("{} overdue", p.overdue)}</strong> })}
        </span>
    }
}

/// The forms a person may use on one item, returning to `back`.
fn item_forms(i: &CampaignItem, ack: bool, request: bool, decide: bool, back: &str) -> AnyView {
    let base = format!("/campaigns/{}/items/{}", i.campaign, i.id);
    let back = back.to_string();
    let waiting = i.exception.as_ref().filter(|e| e.state == "requested").map(|e| e.request_id);
    view! {
        {ack.then(|| view! {
            <form method="post" action=format!("{base}/ack") class="inline-form ack-form">
                <input type="hidden" name="return_to" value=back.clone()/>
                <label>"Planned " <input type="date" name="planned" required value=i.planned.clone().unwrap_or_default()/></label>
                <label>"Note " <input name="note" maxlength="2000" value=i.note.clone().unwrap_or_default()/></label>
                <button type="submit">{if i.state == "acknowledged" { "Update plan" } else { "Acknowledge" }}</button>
            </form>
        })}
        {request.then(|| view! {
            <details class="exception-form">
                <summary>"Request an exception"</summary>
                <form method="post" action=format!("{base}/exception") class="stacked">
                    <input type="hidden" name="return_to" value=back.clone()/>
                    <label>"Reason " <input name="reason" required maxlength="2000"/></label>
                    <label>"Until (last day) " <input type="date" name="until" required/></label>
                    <button type="submit" class="button-secondary">"Request exception"</button>
                </form>
            </details>
        })}
        {waiting.filter(|_| decide).map(|request_id| view! {
            <form method="post" action=format!("{base}/exception/decision") class="inline-form decision-form">
                <input type="hidden" name="return_to" value=back.clone()/>
                <input type="hidden" name="request_id" value=request_id.to_string()/>
                <label>"Note " <input name="note" maxlength="2000"/></label>
                <button type="submit" name="decision" value="approve">"Approve"</button>
                <button type="submit" name="decision" value="reject" class="button-secondary">"Reject"</button>
            </form>
        })}
    }
    .into_any()
}

/// Items as a table, with the forms the viewer may use.
fn items_table(
    items: Vec<CampaignItem>,
    may_ack: Vec<i64>,
    may_request: Vec<i64>,
    may_decide: Vec<i64>,
    back: String,
    show_campaign: bool,
) -> impl IntoView {
    if items.is_empty() {
        return view! { <p class="muted" id="no-items">"Nothing here."</p> }.into_any();
    }
    view! {
        <table class="data" id="items">
            <thead><tr>
                {show_campaign.then(|| view! { <th scope="col">"Campaign"</th> })}
                <th scope="col">"Team"</th><th scope="col">"Image"</th><th scope="col">"Runs"</th><th scope="col">"Severity"</th>
                <th scope="col">"Deadline"</th><th scope="col">"State"</th><th scope="col">"Plan, exception"</th><th scope="col">"Act"</th>
            </tr></thead>
            <tbody>
                {items.into_iter().map(|i| {
                    let (ack, request) = (may_ack.contains(&i.id), may_request.contains(&i.id));
                    let exception = i.exception.clone().map(|e| format!("exception {} (request {} by {}): {} (until {}){}{}", e.state, e.request_id,
                        e.requested_by, e.reason, e.until, e.decided_by.map(|d| format!("; decided by {d}")).unwrap_or_default(),
                        e.note.map(|n| format!(" — {n}")).unwrap_or_default()));
                    let plan = i.planned.clone().map(|p| format!("planned {p}{}", i.note.clone().filter(|n| !n.is_empty()).map(|n| format!(": {n}")).unwrap_or_default()));
                    view! {
                        <tr id=format!("item-{}", i.id) class=if i.overdue { "overdue-row" } else { "" }>
                            {show_campaign.then(|| view! { <td><a href=format!("/campaigns/{}", i.campaign)>{i.campaign_title.clone()}</a></td> })}
                            <td>{i.team.clone().unwrap_or_else(|| "no team".into())}</td>
                            <td><a href=format!("/images/{}", path_segment(&i.image)) title=i.image.clone()><code>{short_digest(&i.image)}</code></a></td>
                            <td>{if i.running { crate::format::count(i.workloads, "workload", "workloads") } else { "not running".into() }}</td>
                            <td><span class=format!("sev sev-{}", i.severity)>{i.severity.clone()}</span></td>
                            <td>{i.deadline.clone()}{i.overdue.then(|| view! { " " <strong class="overdue">"overdue"</strong> })}</td>
                            <td class="state">{state_label(&i.state)}</td>
                            <td>{plan}{exception.map(|e| view! { <br/><span class="muted">{e}</span> })}</td>
                            <td>{item_forms(&i, ack, request, may_decide.contains(&i.id), &back)}</td>
                        </tr>
                    }
                    .into_any()
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// `/campaigns`: every campaign with its progress; security starts one here.
#[component]
pub fn CampaignsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_campaigns());
    view! {
        <Title text="Campaigns"/>
        <h1>"Patch campaigns"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                    Ok(page) => view! {
                        {page.exceptions_waiting.filter(|n| *n > 0).map(|n| view! {
                            <p class="notice" id="exceptions-waiting"><a href="/exceptions">{format!("{} for a decision", crate::format::count(n, "exception request waits", "exception requests wait"))}</a></p>
                        })}
                        {if page.campaigns.is_empty() {
                            view! { <p class="muted">"No campaign yet."</p> }.into_any()
                        } else {
                            view! {
                                <table class="data" id="campaigns">
                                    <thead><tr><th scope="col">"Campaign"</th><th scope="col">"Selects"</th><th scope="col">"Deadline"</th><th scope="col">"Progress"</th><th scope="col">"Started"</th></tr></thead>
                                    <tbody>
                                        {page.campaigns.into_iter().map(|c| {
                                            let selects = [c.cves.join(", "), c.package.clone().map(|p| format!("{p} {}", c.range.clone().unwrap_or_else(|| "(any version)".into()))).unwrap_or_default()]
                                                .into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join("; ");
                                            view! {
                                                <tr>
                                                    <th scope="row"><a href=format!("/campaigns/{}", c.id)>{c.title.clone()}</a></th>
                                                    <td><code>{selects}</code></td>
                                                    <td>{c.deadline.clone().unwrap_or_else(|| "by SLA".into())}</td>
                                                    <td>{progress_bar(&c.progress)}</td>
                                                    <td>{format!("{} by {}", date(&c.created_at), c.created_by)}</td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            }.into_any()
                        }}
                        {page.may_create.then(|| view! {
                            <section class="card" id="new-campaign">
                                <h2>"Start a campaign"</h2>
                                <p class="muted">"Every affected image (as the estate search finds it) becomes an item of its team. Without a deadline, each item's comes from the vulnerability SLA policy. The default ladder: the team 7 days before the deadline, the team lead at it, the manager 7 days after, the CISO 14 days after."</p>
                                <form method="post" action="/campaigns" class="stacked">
                                    <label for="c-title">"Title"</label>
                                    <input id="c-title" name="title" required maxlength="200"/>
                                    <label for="c-cves">"Vulnerability ids (separated by spaces or commas)"</label>
                                    <input id="c-cves" name="cves" placeholder="CVE-2022-22965"/>
                                    <label for="c-package">"and/or a package (purl without version)"</label>
                                    <input id="c-package" name="package" placeholder="pkg:deb/debian/openssl"/>
                                    <label for="c-range">"Version range (vers)"</label>
                                    <input id="c-range" name="range" placeholder="vers:deb/<1.1.1n-0+deb11u4"/>
                                    <label for="c-scope">"Scope (all, team:NAME, namespace:NAME, environment:NAME)"</label>
                                    <input id="c-scope" name="scope" value="all"/>
                                    <label for="c-deadline">"Deadline (empty: from the SLA)"</label>
                                    <input id="c-deadline" type="date" name="deadline"/>
                                    <button type="submit">"Start campaign"</button>
                                </form>
                            </section>
                        })}
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// `/campaigns/:id`: progress per team, the burndown chart and the items.
#[component]
pub fn CampaignPage() -> impl IntoView {
    let params = use_params_map();
    let data = Resource::new(
        move || params.read().get("id").unwrap_or_default(),
        |id| async move {
            match id.parse::<i64>() {
                Ok(n) => get_campaign(n).await,
                Err(_) => Err(crate::error::Error::NotFound(format!("campaign {id} does not exist"))),
            }
        },
    );
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                    Ok(page) => {
                        let c = page.campaign;
                        let back = format!("/campaigns/{}", c.id);
                        let text = match (page.burndown.first(), page.burndown.last()) {
                            (Some(f), Some(l)) => format!("Items not yet fixed: {} on {}, {} on {}{}.", f.1, f.0, l.1, l.0,
                                c.deadline.clone().map(|d| format!("; the deadline is {d}")).unwrap_or_default()),
                            _ => "No items.".into(),
                        };
                        view! {
                            <Title text=format!("Campaign: {}", c.title)/>
                            <p class="breadcrumb"><a href="/campaigns">"Campaigns"</a> " / "</p>
                            <h1>{c.title.clone()}</h1>
                            <dl class="facts">
                                <dt>"Selects"</dt><dd><code>{[c.cves.join(", "), c.package.clone().map(|p| format!("{p} {}", c.range.clone().unwrap_or_default())).unwrap_or_default()].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join("; ")}</code></dd>
                                <dt>"Scope"</dt><dd>{c.scope.clone()}</dd>
                                <dt>"Deadline"</dt><dd>{c.deadline.clone().unwrap_or_else(|| "each item's from the SLA".into())}
                                    {page.may_manage.then(|| view! {
                                        <form method="post" action=format!("/campaigns/{}/deadline", c.id) class="inline-form">
                                            <label>"Move to " <input type="date" name="deadline" required/></label>
                                            <button type="submit" class="button-secondary">"Change deadline"</button>
                                        </form>
                                    })}
                                </dd>
                                <dt>"Ladder"</dt><dd>{c.ladder.iter().map(|l| format!("level {} ({}) {}", l.level, l.recipients, match l.days { d if d < 0 => format!("{} days before", -d), 0 => "at the deadline".into(), d => format!("{d} days after") })).collect::<Vec<_>>().join(" · ")}</dd>
                                <dt>"Started"</dt><dd>{format!("{} by {}", date(&c.created_at), c.created_by)}</dd>
                                <dt>"Progress"</dt><dd id="campaign-progress">{progress_text(&c.progress)}</dd>
                            </dl>
                            <figure class="chart" id="burndown">
                                {page.burndown_svg.map(|svg| view! { <div role="img" aria-label=text.clone() inner_html=svg></div> })}
                                <figcaption>{text.clone()}</figcaption>
                            </figure>
                            <h2>"By team"</h2>
                            <table class="data" id="team-progress">
                                <thead><tr><th scope="col">"Team"</th><th scope="col">"Done"</th><th scope="col">"Open"</th><th scope="col">"Acknowledged"</th><th scope="col">"Pending verification"</th><th scope="col">"Excepted"</th></tr></thead>
                                <tbody>
                                    {page.teams.into_iter().map(|(team, p)| view! {
                                        <tr><th scope="row">{team}</th><td>{progress_bar(&p)}</td><td class="num">{p.open}</td><td class="num">{p.acknowledged}</td><td class="num">{p.pending_verification}</td><td class="num">{p.excepted}</td></tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                            <h2>"Items"</h2>
                            {items_table(c.items, page.may_ack, page.may_request, page.may_decide, back, false)}
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

fn items_page(kind: &'static str, title: &'static str, intro: &'static str) -> impl IntoView {
    let data = Resource::new(|| (), move |_| get_campaign_items(kind.to_string()));
    view! {
        <Title text=title/>
        <h1>{title}</h1>
        <p class="muted">{intro}</p>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                    Ok(page) => view! {
                        {(!page.teams.is_empty()).then(|| view! {
                            <p>"Your teams: " {page.teams.iter().map(|t| view! { <a href=format!("/scorecards/{}", path_segment(t))>{t.clone()}</a> " " }).collect_view()}
                               <span class="muted">"(their scorecards)"</span></p>
                        })}
                        {items_table(page.items, page.may_ack, page.may_request, page.may_decide, format!("/{kind}"), true)}
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// `/updates`: "My team's required updates".
#[component]
pub fn UpdatesPage() -> impl IntoView {
    items_page(
        "updates",
        "My team's required updates",
        "Images of your teams that campaigns require you to update, nearest deadline first. Acknowledge with the date you plan to run the fix (this stops the reminders, not the escalation at the deadline), or request a risk exception. An item is fixed when every workload that ran the affected image runs a scanned image without it.",
    )
}

/// `/overdue`: items past their deadline (managers: their teams').
#[component]
pub fn OverduePage() -> impl IntoView {
    items_page("overdue", "Overdue items", "Campaign items past their deadline and not fixed, oldest deadline first.")
}

/// `/exceptions`: security's queue of exception requests.
#[component]
pub fn ExceptionsPage() -> impl IntoView {
    items_page("exceptions", "Exception queue", "Risk exceptions teams requested, waiting for a decision. An approved exception stops the item's escalation until its last day; then it reopens.")
}

fn messages_page(kind: &'static str, title: &'static str, intro: &'static str) -> impl IntoView {
    let data = Resource::new(|| (), move |_| get_messages(kind.to_string()));
    view! {
        <Title text=title/>
        <h1>{title}</h1>
        <p class="muted">{intro}</p>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <p class="muted" id="no-messages">"No message yet."</p> }.into_any(),
                    Ok(list) => view! { <div id="messages">{list.into_iter().map(message_card).collect_view()}</div> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn message_card(m: DeliveryMessage) -> impl IntoView {
    view! {
        <article class="card message" id=format!("message-{}", m.id)>
            <h2>{m.subject.clone()}</h2>
            <p class="muted">{format!("{} · {} to {} · level {} · {}", date(&m.created_at), m.channel, m.recipient, m.level, m.status)}</p>
            <pre class="message-body">{m.body.clone()}</pre>
            {(!m.attempts.is_empty()).then(|| view! {
                <table class="data attempts">
                    <thead><tr><th scope="col">"Attempt"</th><th scope="col">"Outcome"</th><th scope="col">"Detail"</th><th scope="col">"By"</th></tr></thead>
                    <tbody>
                        {m.attempts.iter().map(|a| view! { <tr><td>{date(&a.at)}</td><td>{a.outcome.clone()}</td><td>{a.detail.clone()}</td><td>{a.worker.clone()}</td></tr> }).collect_view()}
                    </tbody>
                </table>
            })}
        </article>
    }
}

/// `/inbox`: the escalation digests of the viewer's teams.
#[component]
pub fn InboxPage() -> impl IntoView {
    messages_page(
        "inbox",
        "Inbox",
        "The escalation messages about your teams' campaign items, newest first (the same digests the team's contacts receive).",
    )
}

/// `/deliveries`: every message sent, with each attempt (security).
#[component]
pub fn DeliveriesPage() -> impl IntoView {
    messages_page("deliveries", "Delivery log", "Every escalation message with each attempt to deliver it: e-mail over SMTP, webhooks (their host only: the URL is a secret), and the in-app inbox.")
}

/// `/admin/contacts`: who hears of each team's items at each ladder level.
#[component]
pub fn ContactsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_contacts());
    view! {
        <Title text="Contacts"/>
        <h1>"Escalation contacts"</h1>
        <p class="muted">"Contacts of level N receive their team's level-N messages; global contacts receive every team's messages of their level and those of images of no team."</p>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                    Ok(page) => view! {
                        <table class="data" id="contacts">
                            <thead><tr><th scope="col">"Team"</th><th scope="col">"Level"</th><th scope="col">"E-mail"</th><th scope="col">"Webhook"</th></tr></thead>
                            <tbody>
                                {page.contacts.iter().flat_map(|t| t.contacts.iter().map(move |c| (t.team.clone(), c.clone()))).map(|(team, c)| view! {
                                    <tr><td>{team.unwrap_or_else(|| "global".into())}</td><td class="num">{c.level}</td><td>{c.email.clone().unwrap_or_default()}</td>
                                        <td>{c.webhook.clone().unwrap_or_default()}</td></tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                        {page.may_edit.then(|| view! {
                            <section class="card">
                                <h2>"Add a contact"</h2>
                                <form method="post" action="/admin/contacts" class="stacked">
                                    <label for="ct-team">"Team"</label>
                                    <select id="ct-team" name="team">
                                        <option value="">"global (every team, and images of no team)"</option>
                                        {page.teams.iter().map(|t| view! { <option value=t.clone()>{t.clone()}</option> }).collect_view()}
                                    </select>
                                    <label for="ct-level">"Level (0: the team, 1: team lead, 2: manager, 3: CISO)"</label>
                                    <input id="ct-level" name="level" type="number" min="0" max="9" value="0" required/>
                                    <label for="ct-email">"E-mail"</label>
                                    <input id="ct-email" name="email" type="email"/>
                                    <label for="ct-webhook">"Webhook (https; Slack-compatible)"</label>
                                    <input id="ct-webhook" name="webhook" type="url"/>
                                    <button type="submit">"Add contact"</button>
                                </form>
                                <form method="post" action="/admin/contacts/clear" class="inline-form">
                                    <label for="ct-clear">"Remove every contact of "</label>
                                    <select id="ct-clear" name="team">
                                        <option value="">"global"</option>
                                        {page.teams.iter().map(|t| view! { <option value=t.clone()>{t.clone()}</option> }).collect_view()}
                                    </select>
                                    <button type="submit" class="button-secondary">"Remove"</button>
                                </form>
                            </section>
                        })}
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}
