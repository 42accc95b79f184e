// Scripting msgsim from JavaScript (Node 20): run a built-in scenario, inject faults at virtual
// times, read metrics, a snapshot and the trace, and check them against pinned values.
//
//   bash js/build.sh              # builds js/pkg/ (wasm-bindgen --target nodejs)
//   node js/examples/node.mjs     # exits 1 if any value differs from what it expects
//
// The pinned values equal the native engine's for the same scenario, seed and commands
// (js/tests/native.rs runs this exact run natively and asserts the same numbers).
import assert from "node:assert/strict";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { Simulation, scenarios, scenarioJson } = require("../pkg/msgsim_js.js");

const started = performance.now();

// The built-in scenarios (the playground's gallery).
const list = scenarios();
console.log(`${list.length} built-in scenarios, e.g. ${list[0].name}: ${list[0].title}`);

// order-events, seed 42. Times are virtual microseconds.
const sim = new Simulation("order-events", 42);
const ms = 1_000;

sim.runUntil(2_000 * ms); // handle everything up to t = 2 s, then apply at exactly 2 s
sim.apply({ op: "crash", node: "kitchen", instance: 0 });
sim.runUntil(3_000 * ms);
sim.apply({
  op: "set_link", a: "broker", b: "accounting",
  faults: { latency_ms: 100, jitter_ms: 25, loss_percent: 20, duplicate_percent: 10 },
});
sim.runFor(2_000 * ms); // until t = 5 s
sim.apply('{"op": "restart", "node": "kitchen", "instance": 0}'); // JSON text works too
const idle = sim.runToIdle();
assert.equal(idle.reached, true, "order-events goes idle");

// Metrics: run-wide and per node.
const m = sim.metrics();
console.log("metrics:", JSON.stringify(m));
const accounting = sim.nodeMetrics("accounting");
const kitchen = sim.nodeMetrics("kitchen");
console.log("accounting:", JSON.stringify(accounting));

// The trace: a page of plain objects, each with the engine's one-line text.
const page = sim.trace({ from: 0, limit: 3 });
for (const e of page.events) console.log(" ", e.line);
const hash = sim.traceHashHex();
console.log(`trace: ${sim.traceLength()} events, hash ${hash}, now ${sim.now()} µs`);

// Every value below comes from a real run; the native engine gives the same (js/tests/native.rs).
const expected = {
  now: 33_450_511, // µs: the last ack, after the redeliveries the crash and the loss caused
  traceLength: 2_278,
  hash: "0xadd051cc03f09e52",
  metrics: { published: 120, sent: 749, delivered: 741, dropped: 17, duplicated: 9, redelivered: 18, retried: 0, acked: 240 },
  // Naive receivers: accounting charged 70 times for 60 orders (duplicates and redeliveries).
  accounting: { processed: 70, effects: 70, distinct: 60, effects_expected: 60 },
  kitchen: { processed: 121, effects: 121, distinct: 120 },
  firstLine: "t=0.000ms order#0 -> broker publish m1 attempt=1 #1",
};
assert.equal(sim.now(), expected.now);
assert.equal(sim.traceLength(), expected.traceLength);
assert.equal(hash, expected.hash);
assert.equal(sim.traceHash(), BigInt(expected.hash));
for (const [k, v] of Object.entries(expected.metrics)) assert.equal(m[k], v, `metrics.${k}`);
for (const [k, v] of Object.entries(expected.accounting)) assert.equal(accounting[k], v, `accounting.${k}`);
for (const [k, v] of Object.entries(expected.kitchen)) assert.equal(kitchen[k], v, `kitchen.${k}`);
assert.equal(page.events[0].line, expected.firstLine);
assert.equal(page.events[0].event, "send");
assert.deepEqual(page.events[0].from, { node: "order", instance: 0 });
assert.equal(page.next, 3);

// Invariant (conservation): once idle, every packet sent or duplicated was delivered or dropped.
assert.equal(m.delivered + m.dropped, m.sent + m.duplicated);

// The snapshot is plain data too.
const snap = sim.snapshot();
assert.equal(snap.scenario, "order-events");
assert.equal(snap.idle, true);
assert.deepEqual(snap.metrics, m);
assert.deepEqual(snap.nodes.find((n) => n.name === "kitchen").instances.map((i) => i.status), ["up", "up"]);

// The command log, and a share link that replays the run exactly.
assert.deepEqual(sim.commandLog().map((c) => [c.at, c.command.op]),
  [[2_000_000, "crash"], [3_000_000, "set_link"], [5_000_000, "restart"]]);
const replay = Simulation.fromShareLink(sim.shareLink());
replay.runToIdle();
assert.equal(replay.traceHashHex(), hash);

// Errors are thrown JS Errors with the engine's message; nothing changes.
assert.throws(() => sim.apply({ op: "crash", node: "nope" }), { name: "Error", message: "unknown node `nope`" });
assert.throws(() => new Simulation("no-such-scenario"), /unknown scenario `no-such-scenario`/);
assert.throws(() => new Simulation("order-events", -1), /seed must be a non-negative integer/);
assert.equal(sim.commandLog().length, 3);

// Scenarios can be edited as objects: the same scenario with a seed given as a BigInt.
const doc = JSON.parse(scenarioJson("order-events"));
doc.workloads[0].count = 5;
const small = new Simulation(doc, 42n);
small.runToIdle();
assert.equal(small.metrics().published, 10); // 5 orders, 2 messages each

console.log(`ok: every pinned value matches (${(performance.now() - started).toFixed(0)} ms)`);
