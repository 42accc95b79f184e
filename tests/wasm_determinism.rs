//! The golden run in the browser: wasm32 must produce the same trace as a native run.
//! Run with `cargo test -p msgsim --target wasm32-unknown-unknown --test wasm_determinism`
//! (headless Chromium via wasm-bindgen-test-runner; see scripts/test.sh).
#![cfg(target_arch = "wasm32")]

mod common;

use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn golden_hash_in_wasm_equals_native() {
    let sim = common::canonical_run();
    assert_eq!(sim.trace().len_total(), common::GOLDEN_EVENTS);
    assert_eq!(sim.trace_hash(), common::GOLDEN_HASH);
}
