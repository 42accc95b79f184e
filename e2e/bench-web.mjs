// Browser benchmark of the playground's animation (issue 13): frame times with 100 / 500 /
// 1,000 / 2,000 messages in flight, in headless Chromium, against a release build (dist/).
//
//   trunk build --release && node e2e/bench-web.mjs        (or: bash scripts/bench-web.sh)
//
// For each level it uploads a generated flood scenario (a producer publishing to a topic with
// three subscribers over links of 1 s latency, 30 % duplicates on the producer's link; the
// publish interval is chosen so that about LEVEL messages are in flight; 3 % loss between broker
// and accounting, so redeliveries show), runs it into its
// steady state, plays it at the default speed and records the intervals between animation
// frames for BENCH_MS (default 5,000) ms. It prints, per level, the messages in flight it saw
// (the canvas's data-in-flight, at the start and the end of the window), the median and p95
// frame time and the frames per second. It reports; it asserts nothing about wall time.
//
// Environment (all optional):
//   E2E_DIST        directory to serve (default: <repo>/dist); several, comma-separated, are
//                   measured in turn at each level (a before/after comparison in one run)
//   BENCH_LEVELS    comma-separated levels (default: 100,500,1000,2000)
//   BENCH_MS        measuring window per level in ms (default: 5000)
//   BENCH_VIEWPORT  WxH (default: 1400x900)
//   BENCH_JSON      write the results as JSON to this file too
//   BENCH_PROFILE=1 also take a CPU profile (Chrome DevTools protocol) of each window and print
//                   the 25 functions with the most self time (wasm names need a build that
//                   keeps them, e.g. data-keep-debug on the rust link)
//   BENCH_SHOTS     a directory: also screenshot the 1,000 level at 1400x900 and 390x844
//                   (paused, one message selected) into it
//   CHROMIUM_PATH   browser binary (default: /usr/bin/chromium)

import http from 'node:http';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
// E2E_DIST may list several builds (comma-separated, e.g. main's and this one): each level is
// then measured on each build in turn, so they share the machine's conditions.
const DISTS = (process.env.E2E_DIST || path.join(ROOT, 'dist')).split(',').map((d) => path.resolve(d));
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const LEVELS = (process.env.BENCH_LEVELS || '100,500,1000,2000').split(',').map(Number).filter((n) => n > 0);
const WINDOW_MS = Number(process.env.BENCH_MS || 5000);
const [VW, VH] = (process.env.BENCH_VIEWPORT || '1400x900').split('x').map(Number);
const tid = (id) => `[data-testid="${id}"]`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const MIME = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css', '.json': 'application/json' };
function serve(root) {
  const server = http.createServer(async (req, res) => {
    const rel = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    let file = path.resolve(root, '.' + (rel.endsWith('/') ? rel + 'index.html' : rel));
    if (!file.startsWith(root)) return res.writeHead(403).end();
    let st = await fsp.stat(file).catch(() => null);
    if (!st && !path.extname(rel)) { file = path.join(root, 'index.html'); st = await fsp.stat(file).catch(() => null); }
    if (!st || !st.isFile()) return res.writeHead(404).end();
    res.writeHead(200, { 'Content-Type': MIME[path.extname(file)] || 'application/octet-stream', 'Content-Length': st.size });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok(server)));
}

// The flood: in steady state about 10.8 transits per publish interval are in flight on its 1 s links
// (publish and its duplicates, the confirm, three deliveries, three acks; measured).
function flood(level) {
  const every = Math.max(1, Math.round(10800 / level));
  const link = (a, b, extra = {}) => ({ a, b, latency_ms: 1000, jitter_ms: 200, ...extra });
  return {
    name: `flood-${level}`,
    title: `Flood: about ${level} messages in flight`,
    description: 'A benchmark load: one producer, a topic, three subscribers, 1 s links.',
    seed: 7,
    nodes: [
      { name: 'order', kind: 'service', instances: 1, pos: [130, 300] },
      { name: 'broker', kind: 'broker', pos: [460, 300] },
      { name: 'kitchen', kind: 'service', instances: 2, processing_ms: 1, pos: [820, 110] },
      { name: 'accounting', kind: 'service', instances: 2, processing_ms: 1, pos: [820, 300] },
      { name: 'notification', kind: 'service', instances: 2, processing_ms: 1, pos: [820, 490] },
    ],
    links: [
      link('order', 'broker', { duplicate_percent: 30 }),
      link('broker', 'kitchen'),
      link('broker', 'accounting', { loss_percent: 3 }),
      link('broker', 'notification'),
    ],
    channels: [{ name: 'order-events', kind: 'topic', broker: 'broker', consumers: ['kitchen', 'accounting', 'notification'] }],
    workloads: [{ from: 'order', every_ms: every, count: 1_000_000, messages: [
      { channel: 'order-events', kind: 'event', type: 'OrderCreated', key: 'order-{n}', payload: { orderId: 'order-{n}' } },
    ] }],
    policies: { ack_timeout_ms: 2500, prefetch: 5000, max_delivery_attempts: 10, publish_timeout_ms: 10000, publish_max_attempts: 5 },
    faults: [],
  };
}

const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };

const servers = await Promise.all(DISTS.map((d) => serve(d)));
const bases = servers.map((sv) => `http://127.0.0.1:${sv.address().port}`);
let base = bases[0];
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const rows = [];
try {
  for (const level of LEVELS) for (const [di, b] of bases.entries()) {
    base = b;
    const build = DISTS.length > 1 ? path.basename(path.dirname(DISTS[di])) + '/' + path.basename(DISTS[di]) : '';
    const context = await browser.newContext({ viewport: { width: VW, height: VH } });
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${base}/?scenario=order-events`, { waitUntil: 'load' });
    await page.locator(tid('upload')).first().waitFor({ state: 'attached', timeout: 30_000 });
    await page.locator(tid('upload')).setInputFiles({ name: `flood-${level}.json`, mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(flood(level))) });
    await page.waitForFunction(() => document.querySelector('[data-testid="topology"]')?.querySelector('[data-testid="node-kitchen"]'), null, { timeout: 30_000 });
    const inFlight = () => page.evaluate(() => Number(document.querySelector('[data-testid="topology"]').getAttribute('data-in-flight')));
    // Into the steady state: a few seconds of virtual time at once.
    for (let k = 0; k < 4; k++) { await page.locator(tid('advance')).click(); await sleep(200); }
    const pressed = await page.locator(tid('play')).getAttribute('aria-pressed');
    if (pressed !== 'true') await page.locator(tid('play')).click();
    await sleep(1000);
    const before = await inFlight();
    let cdp = null;
    if (process.env.BENCH_PROFILE === '1') {
      cdp = await context.newCDPSession(page);
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
      await cdp.send('Profiler.start');
    }
    if (process.env.BENCH_MUTATIONS === '1') {
      const top = await page.evaluate(() => new Promise((done) => {
        const counts = new Map();
        const where = (n) => {
          const el = n.nodeType === 1 ? n : n.parentElement;
          const c = el && el.closest('[data-testid], section, aside, .pane');
          return c ? `${c.tagName.toLowerCase()}${c.dataset.testid ? '#' + c.dataset.testid : ''}.${(c.getAttribute('class') || '').split(' ')[0]}` : '?';
        };
        const obs = new MutationObserver((ms) => { for (const m of ms) { const k = `${m.type} ${where(m.target)}`; counts.set(k, (counts.get(k) || 0) + 1); } });
        obs.observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
        setTimeout(() => { obs.disconnect(); done([...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25)); }, 1000);
      }));
      console.log(`DOM mutations in 1 s at level ${level}:`);
      for (const [k, n] of top) console.log(`  ${String(n).padStart(6)}  ${k}`);
    }
    const frames = await page.evaluate((ms) => new Promise((done) => {
      const t = [];
      let last = performance.now();
      const end = last + ms;
      const f = (now) => { t.push(now - last); last = now; if (now < end) requestAnimationFrame(f); else done(t); };
      requestAnimationFrame(f);
    }), WINDOW_MS);
    const after = await inFlight();
    if (cdp) {
      const { profile } = await cdp.send('Profiler.stop');
      const dt = new Map();
      const byId = new Map(profile.nodes.map((n) => [n.id, n]));
      for (let k = 0; k < profile.samples.length; k++) {
        const n = byId.get(profile.samples[k]);
        const name = `${n.callFrame.functionName || '(anonymous)'} ${path.basename(n.callFrame.url || '')}`;
        dt.set(name, (dt.get(name) || 0) + (profile.timeDeltas[k] || 0));
      }
      const total = [...dt.values()].reduce((a, b) => a + b, 0);
      console.log(`profile of level ${level} (self time, ${(total / 1000).toFixed(0)} ms sampled):`);
      for (const [n, t] of [...dt.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`  ${(100 * t / total).toFixed(1).padStart(5)} %  ${n}`);
    }
    frames.shift();
    const med = pct(frames, 0.5);
    const p95 = pct(frames, 0.95);
    const row = { build, level, in_flight_start: before, in_flight_end: after, frames: frames.length, median_ms: +med.toFixed(1), p95_ms: +p95.toFixed(1), fps: +(1000 / med).toFixed(1), errors: errors.length };
    rows.push(row);
    console.log(`${build ? build + ' ' : ''}level ${String(level).padStart(5)}: in flight ${before} -> ${after}, ${frames.length} frames, median ${med.toFixed(1)} ms (${(1000 / med).toFixed(0)} fps), p95 ${p95.toFixed(1)} ms${errors.length ? `, ${errors.length} page error(s): ${errors[0]}` : ''}`);
    await context.close();
  }
  base = bases[bases.length - 1];
  if (process.env.BENCH_SHOTS) {
    fs.mkdirSync(process.env.BENCH_SHOTS, { recursive: true });
    for (const [w, h] of [[1400, 900], [390, 844]]) {
      const context = await browser.newContext({ viewport: { width: w, height: h } });
      const page = await context.newPage();
      await page.goto(`${base}/?scenario=order-events`, { waitUntil: 'load' });
      await page.locator(tid('upload')).first().waitFor({ state: 'attached', timeout: 30_000 });
      await page.locator(tid('upload')).setInputFiles({ name: 'flood-1000.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(flood(1000))) });
      await page.waitForFunction(() => document.querySelector('[data-testid="node-kitchen"]'), null, { timeout: 30_000 });
      if ((await page.locator(tid('play')).getAttribute('aria-pressed')) === 'true') await page.locator(tid('pause')).click();
      for (let k = 0; k < 6; k++) { await page.locator(tid('advance')).click(); await sleep(200); }
      // Select a message drawn with a marking (a redelivery or a duplicate) by clicking it.
      const pt = await page.evaluate(() => {
        const c = document.querySelector('[data-testid="message-layer"]');
        const all = c.msgsimMessages().filter((m) => m.drawn);
        const m = all.find((x) => x.attempt !== '1') || all.find((x) => x.duplicate === 'true') || all[0];
        const p = new DOMPoint(m.x, m.y).matrixTransform(document.querySelector('svg[data-testid="topology"]').getScreenCTM());
        return { x: p.x, y: p.y, id: m.id };
      });
      await page.mouse.click(pt.x, pt.y);
      await sleep(300);
      const n = await page.evaluate(() => document.querySelector('[data-testid="topology"]').getAttribute('data-in-flight'));
      const file = path.join(process.env.BENCH_SHOTS, `flood-1000-${w}x${h}.png`);
      await page.screenshot({ path: file });
      console.log(`screenshot ${file}: ${n} in flight, clicked message ${pt.id}`);
      await context.close();
    }
  }
} finally {
  await browser.close();
  for (const sv of servers) sv.close();
}
console.log('\n| build | messages in flight (seen) | median frame | p95 frame | fps (median) |\n|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.build || 'dist'} | ${r.level} (${r.in_flight_start}–${r.in_flight_end}) | ${r.median_ms} ms | ${r.p95_ms} ms | ${r.fps} |`);
if (process.env.BENCH_JSON) fs.writeFileSync(process.env.BENCH_JSON, JSON.stringify(rows, null, 1));
