//! REST maturity side by side: the request lines and bodies of one business operation at each
//! level of the Richardson maturity model (the `rest-maturity` scenario), read from a fresh run
//! of the scenario (its own seed, no user commands) so the columns are complete and fixed.
//!
//! Pure and natively tested.

use msgsim::scenario::Scenario;
use msgsim::sync::http::reason_phrase;
use msgsim::trace::TraceKind;
use msgsim::{SimTime, Simulation};
use std::collections::BTreeMap;

/// Engine events the side-by-side run may take at most.
pub const MATURITY_MAX_EVENTS: u64 = 50_000;
/// Virtual time it may cover at most, ms.
pub const MATURITY_MAX_MS: u64 = 60_000;
/// Exchanges kept per column at most.
pub const MATURITY_MAX_EXCHANGES: usize = 32;

/// One request and its answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exchange {
    /// Operation name of the call (`createOrder`).
    pub operation: String,
    /// `POST /orders`.
    pub request_line: String,
    /// The request body (compact JSON), `None` when it has none.
    pub request_body: Option<String>,
    /// `201 Created`, `reset (connection refused)`, or `None` while unanswered.
    pub status: Option<String>,
    /// The status code, if a response came.
    pub code: Option<u16>,
    /// The response body (compact JSON), `None` without one.
    pub response_body: Option<String>,
    /// Set when the step was not sent at all: why (HATEOAS: the link was absent).
    pub skipped: Option<String>,
}

/// One maturity level's client and what went over its wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LevelColumn {
    /// REST maturity level 0–3.
    pub level: u8,
    /// The calling service.
    pub client: String,
    /// The API's service.
    pub service: String,
    /// Exchanges of its first business operation, in the order they were sent.
    pub exchanges: Vec<Exchange>,
}

/// Whether a scenario has APIs at two or more maturity levels, each called by a workload:
/// then [`columns`] has something to show.
pub fn applies(s: &Scenario) -> bool {
    let mut levels: Vec<u8> = s
        .calls
        .iter()
        .filter_map(|c| s.apis.iter().find(|a| a.service == c.to).map(|a| a.level))
        .collect();
    levels.sort_unstable();
    levels.dedup();
    levels.len() >= 2
}

/// The first business operation of every call workload to an API with a level, one column per
/// workload, ordered by level: runs the scenario from `seed` until each workload's first
/// iteration is over (its `start_ms + every_ms`, at most [`MATURITY_MAX_MS`]).
pub fn columns(s: &Scenario, seed: u64) -> Result<Vec<LevelColumn>, String> {
    let mut sim = Simulation::new(s.clone(), seed).map_err(|e| e.to_string())?;
    // (client, service) -> column index; a column's first iteration ends at `until`.
    let mut cols: Vec<(LevelColumn, u64)> = Vec::new();
    for c in &s.calls {
        let Some(api) = s.apis.iter().find(|a| a.service == c.to) else {
            continue;
        };
        if cols
            .iter()
            .any(|(col, _)| col.client == c.from && col.service == c.to)
        {
            continue;
        }
        let until = c
            .start_ms
            .saturating_add(c.every_ms.max(1))
            .min(MATURITY_MAX_MS);
        cols.push((
            LevelColumn {
                level: api.level,
                client: c.from.clone(),
                service: c.to.clone(),
                exchanges: Vec::new(),
            },
            until,
        ));
    }
    let horizon = cols.iter().map(|(_, u)| *u).max().unwrap_or(0);
    let mut operation: BTreeMap<u64, String> = BTreeMap::new();
    // Upstream request id -> (column, exchange index).
    let mut index: BTreeMap<u64, (usize, usize)> = BTreeMap::new();
    let mut seen_trace = 0;
    let mut events = 0;
    while events < MATURITY_MAX_EVENTS {
        let Some(t) = sim.step() else { break };
        events += 1;
        if t > SimTime::from_ms(horizon) {
            break;
        }
        let now_ms = t.0 / 1_000;
        for ev in sim.trace().since(seen_trace) {
            match &ev.what {
                TraceKind::CallInvoke {
                    call,
                    operation: op,
                    ..
                } => {
                    operation.insert(*call, op.to_string());
                }
                TraceKind::CallSkipped { at, service, rel } => {
                    if let Some((col, until)) = cols
                        .iter_mut()
                        .find(|(c, _)| c.client == *at.node && c.service == **service)
                    {
                        if now_ms < *until && col.exchanges.len() < MATURITY_MAX_EXCHANGES {
                            let name = s
                                .calls
                                .iter()
                                .filter(|c| c.from == col.client && c.to == col.service)
                                .flat_map(|c| c.steps.iter())
                                .filter(|st| st.follow.as_deref() == Some(&**rel))
                                .map(|st| st.name.clone())
                                .next_back()
                                .unwrap_or_default();
                            col.exchanges.push(Exchange {
                                operation: name,
                                request_line: format!("(follow `{rel}`: not sent)"),
                                request_body: None,
                                status: None,
                                code: None,
                                response_body: None,
                                skipped: Some(format!(
                                    "no `{rel}` link in the last representation: the client does not send it"
                                )),
                            });
                        }
                    }
                }
                _ => {}
            }
        }
        seen_trace = sim.trace().len_total();
        let snap = sim.snapshot();
        for tr in &snap.in_flight {
            let Some(h) = &tr.http else { continue };
            match index.get(&h.request_id).copied() {
                None if tr.kind == "request" => {
                    let Some(k) = cols
                        .iter()
                        .position(|(c, _)| c.client == tr.from && c.service == tr.to)
                    else {
                        continue;
                    };
                    let (col, until) = &mut cols[k];
                    if tr.sent_at.0 / 1_000 >= *until
                        || col.exchanges.len() >= MATURITY_MAX_EXCHANGES
                    {
                        continue;
                    }
                    index.insert(h.request_id, (k, col.exchanges.len()));
                    col.exchanges.push(Exchange {
                        operation: operation.get(&h.call).cloned().unwrap_or_default(),
                        request_line: format!("{} {}", h.method, h.path),
                        request_body: (!h.body.is_null()).then(|| h.body.to_string()),
                        status: None,
                        code: None,
                        response_body: None,
                        skipped: None,
                    });
                }
                Some((k, e)) if tr.kind != "request" => {
                    let ex = &mut cols[k].0.exchanges[e];
                    if ex.status.is_some() {
                        continue;
                    }
                    match h.status {
                        Some(st) => {
                            ex.status = Some(format!("{st} {}", reason_phrase(st)));
                            ex.code = Some(st);
                            ex.response_body = (!h.body.is_null()).then(|| h.body.to_string());
                        }
                        None => ex.status = Some("reset (connection refused)".into()),
                    }
                }
                _ => {}
            }
        }
    }
    let mut out: Vec<LevelColumn> = cols.into_iter().map(|(c, _)| c).collect();
    out.sort_by_key(|c| c.level);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(name: &str) -> Scenario {
        Scenario::from_json(msgsim::scenarios::get(name).unwrap()).unwrap()
    }

    #[test]
    fn only_the_maturity_scenario_has_levels_side_by_side() {
        let with: Vec<&str> = msgsim::scenarios::names()
            .filter(|n| applies(&scenario(n)))
            .collect();
        assert_eq!(with, ["rest-maturity"]);
    }

    #[test]
    fn each_level_shows_the_same_operation() {
        let s = scenario("rest-maturity");
        let cols = columns(&s, s.seed).unwrap();
        let lines: Vec<Vec<String>> = cols
            .iter()
            .map(|c| {
                c.exchanges
                    .iter()
                    .map(|e| {
                        format!(
                            "{} {} -> {}",
                            e.operation,
                            e.request_line,
                            e.status.clone().or(e.skipped.clone()).unwrap_or_default()
                        )
                    })
                    .collect()
            })
            .collect();
        assert_eq!(
            lines,
            [
                [
                    "createOrder POST /api -> 200 OK",
                    "getOrder POST /api -> 200 OK",
                    "cancelOrder POST /api -> 200 OK",
                    "cancelOrder POST /api -> 200 OK",
                ],
                [
                    "createOrder POST /orders -> 200 OK",
                    "getOrder POST /orders/1 -> 200 OK",
                    "cancelOrder POST /orders/1 -> 200 OK",
                    "cancelOrder POST /orders/1 -> 200 OK",
                ],
                [
                    "createOrder POST /orders -> 201 Created",
                    "getOrder GET /orders/1?expand=consumer -> 200 OK",
                    "cancelOrder POST /orders/1/cancel -> 200 OK",
                    "cancelOrder POST /orders/1/cancel -> 409 Conflict",
                ],
                [
                    "createOrder POST /orders -> 201 Created",
                    "getOrder GET /orders/1?expand=consumer -> 200 OK",
                    "cancelOrder POST /orders/1/cancel -> 200 OK",
                    "cancelOrder (follow `cancel`: not sent) -> no `cancel` link in the last representation: the client does not send it",
                ],
            ]
        );
        // Level 3's create answer carries its HATEOAS links; level 0 tunnels the operation
        // in the body and answers the second cancel with 200 and an error body.
        assert!(cols[3].exchanges[0]
            .response_body
            .as_deref()
            .unwrap()
            .contains(r#""_links":{"cancel":{"href":"/orders/1/cancel"}"#));
        assert_eq!(
            cols[0].exchanges[3].response_body.as_deref(),
            Some(
                r#"{"error":"Conflict","message":"order 1: state is \"CANCELLED\", needs \"APPROVED\""}"#
            )
        );
        assert_eq!(
            cols[0].exchanges[1].request_body.as_deref(),
            Some(r#"{"operation":"getOrder","orderId":1}"#)
        );
    }
}
