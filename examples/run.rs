//! Runs a built-in scenario for up to 60 s of virtual time (scenarios with consumer groups poll
//! forever) and prints its metrics and the last trace lines.
//! `cargo run --example run -- order-events 42`
fn main() {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "order-events".into());
    let seed = args.next().and_then(|s| s.parse().ok()).unwrap_or(42);
    let Some(json) = msgsim::scenarios::get(&name) else {
        eprintln!(
            "unknown scenario `{name}`; built-in: {:?}",
            msgsim::scenarios::names().collect::<Vec<_>>()
        );
        std::process::exit(2);
    };
    let mut sim = msgsim::Simulation::from_json(json, seed).expect("built-in scenario is valid");
    sim.run_until(msgsim::SimTime::from_ms(60_000), 10_000_000);
    for e in sim
        .trace()
        .events()
        .rev()
        .take(15)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
    {
        println!("{e}");
    }
    println!("{:#?}", sim.metrics());
    println!(
        "trace hash {:#018x}, {} events",
        sim.trace_hash(),
        sim.trace().len_total()
    );
}
