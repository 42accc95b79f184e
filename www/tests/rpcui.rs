//! Browser tests of the RPC, schema and compare views (rpcui): breaker rings and call boxes on
//! the canvas, the REST maturity table, the API document buttons, the rollout marks and the
//! compare view, checked against direct engine runs of the same scenario, seed and times.
//!
//! ```text
//! CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
//! CHROMEDRIVER=/usr/bin/chromedriver cargo test -p msgsim-web --target wasm32-unknown-unknown
//! ```

#![cfg(target_arch = "wasm32")]

use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::Element;

wasm_bindgen_test_configure!(run_in_browser);

mod common;
use common::{cells, engine_at as engine, mount_builtin as mount, seed_of};

fn attr(e: &Element, name: &str) -> String {
    e.get_attribute(name).unwrap_or_default()
}

#[wasm_bindgen_test]
async fn client_instances_carry_their_breaker_state_and_rpc_boxes_their_counters() {
    let m = mount("circuit-breaker").await;
    m.advance(7).await;
    let snap = engine("circuit-breaker", 7);
    let p = snap
        .proxies
        .iter()
        .find(|p| p.client == "checkout-b" && p.service == "payments-b")
        .unwrap();
    let state = p.breaker.as_ref().unwrap().state.name();
    assert_eq!(state, "OPEN");
    let ring = m.get("breaker-ring-checkout-b-0-payments-b");
    assert_eq!(attr(&ring, "data-state"), state);
    assert_eq!(
        attr(&ring, "aria-label"),
        "circuit breaker of checkout-b#0 → payments-b: OPEN"
    );
    assert_eq!(
        m.get("rpc-sub-checkout-b").text_content().unwrap(),
        "breaker OPEN"
    );
    // checkout-a has no breaker: no ring.
    assert!(m
        .all_in("[data-testid^=\"breaker-ring-checkout-a\"]")
        .is_empty());
    let server = snap.nodes.iter().find(|n| n.name == "payments-b").unwrap();
    assert_eq!(
        m.get("rpc-counters-payments-b").text_content().unwrap(),
        format!(
            "served {} · in flight {}/32 · queue 0",
            server.server.unwrap().served,
            server.instances.iter().map(|i| i.workers_busy).sum::<u32>()
        )
    );
    // No service box says "producer" in a synchronous scenario.
    assert!(!m.root.text_content().unwrap().contains("published 0"));
}

#[wasm_bindgen_test]
async fn rest_levels_side_by_side_and_api_documents() {
    let m = mount("rest-maturity").await;
    let heads: Vec<String> = (0..4)
        .map(|l| m.get(&format!("level-{l}")).text_content().unwrap())
        .collect();
    assert!(
        heads[3].starts_with("Level 3 client-l3 → orders-l3"),
        "{heads:?}"
    );
    let ex = m.all_in("[data-testid=\"maturity-view\"] [data-testid=\"exchange\"]");
    assert_eq!(ex.len(), 16);
    assert!(ex[12].text_content().unwrap().contains("POST /api"));
    assert!(ex[14].text_content().unwrap().contains("409 Conflict"));
    assert!(ex[15].text_content().unwrap().contains("not sent"));
    for svc in ["orders-l0", "orders-l1", "orders-l2", "orders-l3"] {
        m.get(&format!("download-openapi-{svc}"));
    }
    assert_eq!(
        m.get("no-asyncapi").text_content().unwrap(),
        "no channel of this scenario declares schemas: no AsyncAPI document"
    );
}

#[wasm_bindgen_test]
async fn consumers_show_which_version_they_understand() {
    let m = mount("schema-rollout").await;
    m.advance(6).await;
    assert_eq!(attr(&m.get("contract-crm"), "data-reads"), "true");
    assert_eq!(attr(&m.get("contract-audit"), "data-reads"), "false");
    let audit = m.get("contract-audit");
    assert_eq!(
        audit
            .query_selector("text")
            .unwrap()
            .unwrap()
            .text_content()
            .unwrap(),
        "1.0.0 strict ✗ 1.1.0"
    );
    assert_eq!(
        attr(&audit, "aria-label"),
        "audit reads user-events with schema 1.0.0 (strict); the producer writes 1.1.0 now: not understood, rejected and dead-lettered; so far 16 accepted, 8 rejected (last: unknown field age)"
    );
    m.get("download-asyncapi");
    assert_eq!(
        m.get("no-openapi").text_content().unwrap(),
        "this scenario has no REST endpoints: no OpenAPI document"
    );
}

#[wasm_bindgen_test]
async fn the_compare_view_diffs_two_variants_with_the_same_seed() {
    let m = mount("circuit-breaker").await;
    m.click("open-compare").await;
    let view = m.get("compare-view");
    let select: web_sys::HtmlSelectElement = m.get("compare-pair").dyn_into().unwrap();
    assert_eq!(select.value(), "breaker-on-off");
    let c = msgsim::scenarios::comparison("breaker-on-off").unwrap();
    let r = msgsim_web::compare::run(c, seed_of("circuit-breaker"), &[]).unwrap();
    let rows = m.all_in("[data-testid=\"diff-changed\"]");
    assert_eq!(rows.len(), r.changed().count());
    assert_eq!(rows.len(), 32);
    // The pair's focus counters come first, starred.
    let row = cells(&rows[0]);
    assert_eq!(
        row,
        [
            "★ calls shop-b → checkout-b",
            "successes",
            "250",
            "153",
            "-97"
        ]
    );
    assert_eq!(m.all_in("tr.focus").len(), c.focus.len());
    assert!(m.all_in("[data-testid=\"diff-same\"]").is_empty());
    m.get("compare-side-A");
    m.get("compare-side-B");
    assert!(view.text_content().unwrap().contains("seed 11"));
    m.click("compare-close").await;
    assert!(m.all_in("[data-testid=\"compare-view\"]").is_empty());
}
