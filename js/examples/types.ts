// Type-checked (not run) by `npm run check-types` in js/ after `bash js/build.sh`: the generated
// pkg/msgsim_js.d.ts must type these uses, and refuse the ones marked @ts-expect-error (tsc fails
// if a marked line is accepted, i.e. if a type went loose).
import { Simulation, scenarios, scenarioJson } from "../pkg/msgsim_js";
import type { Metrics, Snapshot, TraceEvent, RunResult, Command } from "../pkg/msgsim_js";

const sim = new Simulation("order-events", 42n);
const run: RunResult = sim.runUntil(2_000_000);
const handled: number = run.events;
const crash: Command = { op: "crash", node: "kitchen", instance: 0 };
sim.apply(crash);
sim.apply('{"op": "restart", "node": "kitchen"}');
// @ts-expect-error: not a command
sim.apply({ op: "explode" });
// @ts-expect-error: crash needs a node
sim.apply({ op: "crash" });

const m: Metrics = sim.metrics();
const sent: number = m.sent;
// @ts-expect-error: no such counter
m.sentt;

const snap: Snapshot = sim.snapshot();
const status: "up" | "paused" | "crashed" = snap.nodes[0].instances[0].status;
const arrive: number | bigint = snap.in_flight.length > 0 ? snap.in_flight[0].arrive_at : 0;

const page = sim.trace({ from: 0, limit: 3 });
for (const e of page.events) {
  const event: TraceEvent = e;
  const line: string = e.line;
  if (e.event === "drop") {
    const reason: "loss" | "partition" | "node_down" | "overflow" = e.reason;
  }
}
// @ts-expect-error: unknown option
sim.trace({ form: 1 });

const hash: bigint = sim.traceHash();
const hex: string = sim.traceHashHex();
const name: string = scenarios()[0].name;
const kitchen = sim.nodeMetrics("kitchen");
// @ts-expect-error: undefined for an unknown node
const effects: number = kitchen.effects;
const edited = new Simulation(JSON.parse(scenarioJson("order-events")), "7");
const next: number | undefined = edited.step();

export { handled, sent, status, arrive, hash, hex, name, effects, next };
