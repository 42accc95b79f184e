//! The synchronous-communication scenarios in the browser: wasm32 must produce the same traces
//! as native runs (the golden values of `tests/sync_scenarios.rs`). Float arithmetic (breaker
//! rates, retry jitter) and every random draw must agree across targets.
//! Run with `cargo test -p msgsim --target wasm32-unknown-unknown --test sync_wasm_determinism`.
#![cfg(target_arch = "wasm32")]

use msgsim::Simulation;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn run(name: &str) -> Simulation {
    let scenario = msgsim::Scenario::from_json(msgsim::scenarios::get(name).unwrap()).unwrap();
    let seed = scenario.seed;
    let mut sim = Simulation::new(scenario, seed).unwrap();
    sim.run_to_idle(10_000_000);
    sim
}

#[wasm_bindgen_test]
fn sync_golden_hashes_in_wasm_equal_native() {
    for (name, events, hash) in [
        ("circuit-breaker", 9_191, 0xed60_349c_5289_00cb_u64),
        ("timeouts-retries", 2_257, 0x93a1_1ad7_0eb2_e860),
        ("resilience-composed", 2_510, 0x7ae2_de30_c013_4bc6),
        ("discovery-server-side", 2_673, 0x2dc3_0179_5a6b_ffa8),
    ] {
        let sim = run(name);
        assert_eq!(sim.trace().len_total(), events, "{name}");
        assert_eq!(sim.trace_hash(), hash, "{name}");
    }
}
