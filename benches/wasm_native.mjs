// wasm vs native, trace on: the shipped JS API build (js/pkg, wasm-bindgen --target nodejs) run in
// Node on the workload of the throughput bench's trace row (order-events, 100 000 messages,
// 5 % loss + 5 % duplication on order <-> broker and broker <-> accounting, trace on with the
// default 10 000-event ring, prefetch 4).
//
//   bash js/build.sh && node benches/wasm_native.mjs [rounds]
//   cargo bench --bench throughput -- trace      # the native side of the same row
//
// Prints the median events/s of `rounds` runs (default 5) and the trace hash, which must equal the
// native engine's for the same run.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { Simulation, scenarioJson } = require("../js/pkg/msgsim_js.js");

const rounds = Number(process.argv[2] ?? 5);
const scenario = JSON.parse(scenarioJson("order-events"));
scenario.workloads[0].count = 50_000; // 2 messages per tick
scenario.policies.prefetch = 4;
const faults = { latency_ms: 40, jitter_ms: 10, loss_percent: 5, duplicate_percent: 5 };

const rates = [];
let hash = "";
let events = 0;
for (let r = 0; r < rounds; r++) {
  const sim = new Simulation(scenario, 42);
  for (const [a, b] of [["order", "broker"], ["broker", "accounting"]]) {
    sim.apply({ op: "set_link", a, b, direction: "both", faults });
  }
  const t0 = performance.now();
  const out = sim.runToIdle(1e9);
  const secs = (performance.now() - t0) / 1000;
  events = out.events;
  rates.push(out.events / secs);
  hash = sim.traceHashHex();
  sim.free();
}
rates.sort((a, b) => a - b);
const median = rates[Math.floor(rates.length / 2)];
console.log(
  `wasm (Node ${process.version}): ${events} events, ${(median / 1e6).toFixed(2)} M events/s ` +
    `(median of ${rounds}), trace hash ${hash}`,
);
