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
        ("circuit-breaker", 9_191, 0x4f8e_7d7f_aab1_2459u64),
        ("timeouts-retries", 2_413, 0x9c61_96ad_ed97_53db),
        ("resilience-composed", 2_363, 0xdb32_c789_4634_6b71),
        ("discovery-server-side", 2_679, 0xe4cc_27ef_72d5_30a5),
    ] {
        let sim = run(name);
        assert_eq!(sim.trace().len_total(), events, "{name}");
        assert_eq!(sim.trace_hash(), hash, "{name}");
    }
}
