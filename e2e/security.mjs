// Security suite of the playground and its widget (issue 16: safe to embed, safe to export).
//
//   node e2e/security.mjs       (after `trunk build --release`, from any directory)
//
// Serves dist/ on three loopback origins with Node's own http module — W (the playground and
// the widget), H (a host page the widget allows with ?origins=) and X (another origin, never
// allowed) — drives the system Chromium through playwright-core, and checks that hostile input
// neither freezes the page nor gets through:
//
//   hostile links   a shared run (?run=, ?embed=1&run=, an uploaded run file, a host's
//                   `load {run}`) of a heavy inline scenario (order-events, workloads ×8, a
//                   message every 1 ms, 10 000 000 times) with `events` 10^15 or 20 000 000, or
//                   far in time: refused with a clear message, or replayed over frames with a
//                   progress bar and a Cancel;
//   flood           an allowed host sends 10 000 requests per second for 5 s;
//   seek            a host's `seek` to 24 h after loading the heavy scenario;
//   origins         ?origins= spellings the browser normalises (127.0.0.1., 0x7f.0.0.1,
//                   2130706433, :018603) are refused with a banner; H talks to the widget,
//                   X does not;
//   exports         Mermaid, SVG and JSON Lines of a scenario whose names are hostile (or the
//                   upload is refused at validation).
//
// Responsiveness is measured inside the page under test with a requestAnimationFrame
// heartbeat (the longest gap between two frames) and PerformanceObserver 'longtask' (the longest
// task). Both are reported. The checks assert behaviour (banner texts, event counts); the one
// time bound is a HANG DETECTOR: a heartbeat gap over HANG_MS (2 s, far above the ~100 ms a
// long task may take) means the page froze, and fails the case.
//
// Environment (all optional):
//   E2E_DIST         directory to serve (default: <repo>/dist)
//   SEC_PORTS        three ports for W,H,X (default: free ports), e.g. 18616,18617,18618
//   CHROMIUM_PATH    browser binary (default: /usr/bin/chromium)
//   SEC_ONLY         run only the cases whose name contains this text

import http from 'node:http';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const DIST = path.resolve(process.env.E2E_DIST || path.join(ROOT, 'dist'));
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const PORTS = (process.env.SEC_PORTS || '0,0,0').split(',').map(Number);
const ONLY = process.env.SEC_ONLY || '';
const APP_START_TIMEOUT = 30_000;
const HANG_MS = 2_000; // hang detector (see the header), not a performance bound
const WATCHDOG_MS = 480_000;

const ts = () => new Date().toISOString().slice(11, 19);
const log = (...a) => console.log(`[${ts()}]`, ...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const results = [];
const measured = [];
function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}
async function check(name, fn) {
  try {
    const detail = await fn();
    results.push({ name, ok: true });
    log(`PASS ${name}${detail ? ` -- ${detail}` : ''}`);
  } catch (e) {
    results.push({ name, ok: false });
    log(`FAIL ${name} -- ${e instanceof Error ? e.message.split('\n').slice(0, 6).join('\n      ') : e}`);
  }
}
// Rejects after `ms` (a frozen page never answers an evaluate).
function within(ms, promise, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms (page frozen?)`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
async function waitFor(fn, timeoutMs, what, intervalMs = 100) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    }
    await sleep(intervalMs);
  }
}
const tid = (id) => `[data-testid="${id}"]`;

// ---------------------------------------------------------------- inputs ---
const ORDER_EVENTS = JSON.parse(fs.readFileSync(path.join(ROOT, 'scenarios/order-events.json'), 'utf8'));
function heavyScenario() {
  const s = structuredClone(ORDER_EVENTS);
  const all = [];
  for (let k = 0; k < 8; k++) {
    for (const w of ORDER_EVENTS.workloads) all.push({ ...structuredClone(w), every_ms: 1, count: 10_000_000 });
  }
  s.workloads = all;
  return s;
}
// `v1.<base64url(deflate(json))>` (src/share.rs), written by hand: the JSON may carry what the
// page's own encoder would never write (an integer beyond 2^53 is kept as digits).
function link(runJson) {
  return 'v1.' + zlib.deflateRawSync(Buffer.from(runJson), { level: 9 }).toString('base64url');
}
const HEAVY = JSON.stringify(heavyScenario());
const RUNS = {
  'events 1e15': `{"scenario":{"inline":${HEAVY}},"seed":1,"commands":[],"at":1,"events":1000000000000000}`,
  'events 20000000': `{"scenario":{"inline":${HEAVY}},"seed":1,"commands":[],"at":1,"events":20000000}`,
  'at 24 h': `{"scenario":{"inline":${HEAVY}},"seed":1,"commands":[],"at":86400000000}`,
};
const HOSTILE_NAMES = ['x\n%%{init:{"theme":"dark"}}%%', 'a\nlink n0: Docs@https://ev.il/login', '</text><script>\u0001'];

// ----------------------------------------------------------------- server ---
const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};
// The host page: frames `src` and records what the widget posts; `send(msg)` posts to it.
const HOST_HTML = `<!doctype html><meta charset="utf-8"><title>host</title>
<iframe id="w" width="640" height="400" style="border:0"></iframe>
<script>
  window.__events = [];
  const frame = document.getElementById('w');
  addEventListener('message', (e) => {
    if (e.source === frame.contentWindow) window.__events.push({ origin: e.origin, data: e.data, t: performance.now() });
  });
  window.send = (m) => frame.contentWindow.postMessage(m, '*');
  frame.src = new URLSearchParams(location.search).get('src');
</script>`;

function startServer(port) {
  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://localhost');
      if (url.pathname === '/__host.html') {
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' }).end(HOST_HTML);
        return;
      }
      let rel = decodeURIComponent(url.pathname);
      if (rel.endsWith('/')) rel += 'index.html';
      const file = path.resolve(DIST, '.' + rel);
      if (!file.startsWith(DIST)) return res.writeHead(403).end();
      const st = await fsp.stat(file).catch(() => null);
      if (!st || !st.isFile()) return res.writeHead(404).end('not found');
      res.writeHead(200, {
        'Content-Type': MIME[path.extname(file).toLowerCase()] || 'application/octet-stream',
        'Content-Length': st.size,
        'Cache-Control': 'no-store',
      });
      fs.createReadStream(file).pipe(res);
    } catch (e) {
      res.writeHead(500).end(String(e));
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

// ------------------------------------------------------------- heartbeat ---
// In every frame of every page: the longest gap between two animation frames and the longest
// task, since the last `__hb.reset()`.
const HEARTBEAT = `(() => {
  const hb = { maxGap: 0, maxTask: 0, frames: 0, last: 0, gaps: [] };
  hb.reset = () => { hb.maxGap = 0; hb.maxTask = 0; hb.frames = 0; hb.gaps = []; hb.last = performance.now(); };
  const tick = (t) => { if (hb.last) { const g = t - hb.last; hb.maxGap = Math.max(hb.maxGap, g); if (g > 100) hb.gaps.push(Math.round(g)); } hb.last = t; hb.frames++; requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
  try {
    new PerformanceObserver((l) => { for (const e of l.getEntries()) hb.maxTask = Math.max(hb.maxTask, e.duration); })
      .observe({ type: 'longtask', buffered: true });
  } catch (e) {}
  window.__hb = hb;
})();`;
async function hbReset(frame) {
  await within(5_000, frame.evaluate(() => window.__hb.reset()), 'heartbeat reset');
}
// The heartbeat so far, the gap since the last frame included (a frame that never came).
async function hbRead(frame, what) {
  const t0 = Date.now();
  const hb = await within(HANG_MS * 4, frame.evaluate(() => ({
    maxGap: Math.max(window.__hb.maxGap, performance.now() - window.__hb.last),
    maxTask: window.__hb.maxTask,
    frames: window.__hb.frames,
    gaps: window.__hb.gaps.slice(0, 12),
  })), `heartbeat (${what})`).catch((e) => ({ maxGap: Infinity, maxTask: Infinity, frames: 0, err: e.message, waited: Date.now() - t0 }));
  measured.push({ what, maxGapMs: Math.round(hb.maxGap), maxTaskMs: Math.round(hb.maxTask), frames: hb.frames, gapsOver100ms: hb.gaps });
  log(`measured ${what}: max frame gap ${Math.round(hb.maxGap)} ms, longest task ${Math.round(hb.maxTask)} ms, ${hb.frames} frames, gaps over 100 ms: ${JSON.stringify(hb.gaps)}`);
  return hb;
}
function notHung(hb, what) {
  assert(hb.maxGap < HANG_MS, `${what}: the page froze (a ${Math.round(hb.maxGap)} ms gap between animation frames; hang detector at ${HANG_MS} ms)`);
}

// ------------------------------------------------------------------ cases ---
async function newPage(context) {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.route('**/*', (route) => {
    const u = new URL(route.request().url());
    return u.hostname === '127.0.0.1' || u.hostname === 'localhost' ? route.continue() : route.abort();
  });
  return { page, errors };
}

// A link or file whose place cannot be reached is refused at once; one far in time is replayed
// over frames with a progress bar, and Cancel stops it where it is.
async function hostileLinks(context, W) {
  for (const embed of [false, true]) {
    for (const [name, run] of Object.entries(RUNS)) {
      const label = `hostile link ${embed ? '?embed=1&run=' : '?run='} (${name}, ${link(run).length} characters)`;
      if (ONLY && !label.includes(ONLY)) continue;
      const { page, errors } = await newPage(context);
      try {
        await page.goto(`${W}/?${embed ? 'embed=1&' : ''}run=${link(run)}`, { timeout: APP_START_TIMEOUT });
        await page.locator(tid('topology')).first().waitFor({ timeout: APP_START_TIMEOUT });
        await hbReset(page);
        await sleep(1_500);
        const hb = await hbRead(page, label);
        await check(label, async () => {
          notHung(hb, label);
          if (name === 'at 24 h') {
            const how = await cancelOrBound(page, tid('error'));
            assert((await page.locator(tid('work')).count()) === 0, 'the progress bar stays');
            measured.push({ what: label, ended: how });
          } else {
            // The declared cost is checked before anything runs.
            const banner = await page.locator(tid('error')).textContent({ timeout: 5_000 });
            const n = name === 'events 1e15' ? '1000000000000000' : '20000000';
            assert(banner.includes(`the run's \`events\` is ${n}, beyond the maximum 100000 events`), `banner: ${banner}`);
          }
          assert(errors.length === 0, `page errors: ${errors.join('; ')}`);
          return `max frame gap ${Math.round(hb.maxGap)} ms, longest task ${Math.round(hb.maxTask)} ms`;
        });
      } catch (e) {
        await check(label, () => { throw e; });
      } finally {
        await page.close().catch(() => {});
      }
    }
  }
  // The same far run as an uploaded run file.
  const label = 'hostile run file (at 24 h) uploaded';
  if (ONLY && !label.includes(ONLY)) return;
  const { page } = await newPage(context);
  try {
    await page.goto(`${W}/?scenario=order-events&seed=1`, { timeout: APP_START_TIMEOUT });
    await page.locator(tid('upload')).first().waitFor({ state: 'attached', timeout: APP_START_TIMEOUT });
    await hbReset(page);
    await page.locator(tid('upload')).setInputFiles({ name: 'heavy.msgsim.json', mimeType: 'application/json', buffer: Buffer.from(RUNS['at 24 h']) });
    await sleep(1_000);
    const hb = await hbRead(page, label);
    await check(label, async () => {
      notHung(hb, label);
      const how = await cancelOrBound(page, tid('upload-error'));
      measured.push({ what: label, ended: how });
      return `max frame gap ${Math.round(hb.maxGap)} ms`;
    });
  } catch (e) {
    await check(label, () => { throw e; });
  } finally {
    await page.close().catch(() => {});
  }
}

// A replay far in time runs over frames: Cancel it while its progress bar shows (then the
// message says it was cancelled), or, if it already ended, its bound says where it stopped.
async function cancelOrBound(frame, where) {
  const cancel = frame.locator(tid('cancel-work'));
  // (The replay may end between the look and the click: then its bound speaks.)
  const text = (await cancel.count()) > 0 ? await frame.locator(tid('work-text')).textContent({ timeout: 500 }).catch(() => null) : null;
  if (text !== null && (await cancel.click({ timeout: 1_000 }).then(() => true, () => false))) {
    assert(/^Opening the shared run to 86400\.000 s: at \d+\.\d{3} s · \d+ engine events \(\d+ %\)$/.test(text), `progress text: ${text}`);
    const msg = await frame.locator(where).textContent({ timeout: 5_000 });
    assert(/The run was opened at \d+\.\d{3} s only: replaying it to 86400\.000 s was cancelled\./.test(msg), `after Cancel: ${msg}`);
    return 'cancelled while replaying';
  }
  const msg = await frame.locator(where).textContent({ timeout: 5_000 });
  assert(/The run was replayed up to \d+\.\d{3} s only: reaching 86400\.000 s takes more than 100000 engine events\./.test(msg), `bound: ${msg}`);
  return 'stopped at its bound of 100000 events';
}

// A host page at `hostBase` framing the widget with `?origins=`; returns the page and the frame.
async function hostPage(context, hostBase, widgetUrl) {
  const { page, errors } = await newPage(context);
  await page.goto(`${hostBase}/__host.html?src=${encodeURIComponent(widgetUrl)}`, { timeout: APP_START_TIMEOUT });
  const frame = await waitFor(async () => {
    const f = page.frames().find((f) => f.url().startsWith(widgetUrl.split('?')[0]) && f !== page.mainFrame());
    return f && (await f.locator(tid('topology')).count()) > 0 ? f : null;
  }, APP_START_TIMEOUT, 'the widget in the host page');
  return { page, frame, errors };
}
const events = (page, type) => within(10_000, page.evaluate((t) => window.__events.filter((e) => !t || e.data.type === t), type), 'host events');

async function hostLoad(context, W, H) {
  const label = 'hostile host load {run} (at 24 h) then a seek back';
  if (ONLY && !label.includes(ONLY)) return;
  const { page, frame } = await hostPage(context, H, `${W}/?embed=1&origins=${H}`);
  try {
    await waitFor(async () => (await events(page, 'ready')).length === 1, 10_000, 'ready');
    await hbReset(frame);
    await page.evaluate((run) => window.send({ msgsim: 1, type: 'load', run, id: 'L' }), link(RUNS['at 24 h']));
    await sleep(1_000);
    const hb = await hbRead(frame, label);
    await check(label, async () => {
      notHung(hb, label);
      const busy = (await frame.locator(tid('work')).count()) > 0;
      // Any request on the run stops the replay where it is, and the host hears why.
      await page.evaluate(() => window.send({ msgsim: 1, type: 'seek', to_ms: 5, id: 'S' }));
      const want = busy ? /replaying it to 86400\.000 s was cancelled/ : /reaching 86400\.000 s takes more than 100000 engine events/;
      const err = await waitFor(async () => (await events(page, 'error')).find((e) => want.test(e.data.message)), 10_000, `the error event ${want}`);
      const state = await waitFor(async () => (await events(page, 'state')).find((e) => e.data.time_us === 5000), 10_000, 'a state at 5 ms');
      return `${err.data.message} · then state at ${state.data.time_us} µs`;
    });
  } finally {
    await page.close().catch(() => {});
  }
}

async function flood(context, W, H) {
  const label = 'flood: 10 000 requests/s for 5 s from an allowed host';
  if (ONLY && !label.includes(ONLY)) return;
  const { page, frame } = await hostPage(context, H, `${W}/?embed=1&scenario=order-events&seed=42&origins=${H}`);
  try {
    await waitFor(async () => (await events(page, 'ready')).length === 1, 10_000, 'ready');
    await hbReset(frame);
    // 100 messages every 10 ms: 80 steps, 10 play/pause, 10 malformed ones.
    const sent = await page.evaluate(() => new Promise((resolve) => {
      window.__events.length = 0;
      let n = 0;
      const t0 = performance.now();
      const id = setInterval(() => {
        for (let k = 0; k < 100; k++) {
          const m = k < 80 ? { msgsim: 1, type: 'step' } : k < 90 ? { msgsim: 1, type: k % 2 ? 'play' : 'pause' } : { msgsim: 1, type: 'fly', id: n };
          window.send(m);
          n++;
        }
        if (performance.now() - t0 >= 5_000) {
          clearInterval(id);
          resolve({ n, ms: performance.now() - t0 });
        }
      }, 10);
    }));
    const during = await hbRead(frame, `${label} (during)`);
    await hbReset(frame);
    // Right after: a pause is answered with a state.
    const t0 = Date.now();
    await page.evaluate(() => window.send({ msgsim: 1, type: 'pause', id: 'probe' }));
    await waitFor(async () => (await events(page, 'state')).some((e) => e.t > 0 && e.data.playing === false), 10_000, 'a state after the flood');
    const answeredMs = Date.now() - t0;
    await sleep(1_000);
    const after = await hbRead(frame, `${label} (after)`);
    const all = await events(page);
    const count = (t) => all.filter((e) => e.data.type === t).length;
    const refused = all.filter((e) => e.data.type === 'error' && /requests were refused/.test(e.data.message)).length;
    const unanswered = all.filter((e) => e.data.type === 'error' && /refused messages were not answered/.test(e.data.message)).length;
    measured.push({ what: 'flood events', sent: sent.n, ms: Math.round(sent.ms), state: count('state'), metrics: count('metrics'), error: count('error'), answeredMs });
    log(`flood: sent ${sent.n} in ${Math.round(sent.ms)} ms; got ${count('state')} state, ${count('metrics')} metrics, ${count('error')} error (${refused} 'refused' summaries, ${unanswered} 'not answered' summaries); pause answered after ${answeredMs} ms`);
    await check(label, async () => {
      notHung(during, `${label} (during)`);
      notHung(after, `${label} (after)`);
      const seconds = (sent.ms + 1_000 + answeredMs) / 1_000;
      assert(count('metrics') <= Math.ceil(seconds * 4) + 2, `${count('metrics')} metrics events in ${seconds.toFixed(1)} s: more than one per 250 ms`);
      assert(refused > 0 && unanswered > 0, 'no summary error counted the refused requests and the unanswered messages');
      return `${count('metrics')} metrics in ${seconds.toFixed(1)} s, ${count('state')} state, ${count('error')} error events`;
    });
  } finally {
    await page.close().catch(() => {});
  }
}

async function seek(context, W, H) {
  const label = 'seek to 24 h after a heavy load';
  if (ONLY && !label.includes(ONLY)) return;
  const { page, frame } = await hostPage(context, H, `${W}/?embed=1&origins=${H}`);
  try {
    await waitFor(async () => (await events(page, 'ready')).length === 1, 10_000, 'ready');
    await page.evaluate((def) => window.send({ msgsim: 1, type: 'load', definition: def, seed: 1 }), heavyScenario());
    await waitFor(async () => (await events(page, 'state')).some((e) => e.data.scenario === 'order-events' && e.data.builtin === false), 10_000, 'the heavy scenario loaded');
    await hbReset(frame);
    await page.evaluate(() => window.send({ msgsim: 1, type: 'seek', to_ms: 86400000, id: 'far' }));
    await sleep(3_000);
    const hb = await hbRead(frame, label);
    await check(label, async () => {
      notHung(hb, label);
      const text = await frame.locator(tid('work-text')).textContent({ timeout: 5_000 });
      assert(/^Seeking to 86400\.000 s: at /.test(text), `progress: ${text}`);
      await page.evaluate(() => window.send({ msgsim: 1, type: 'pause' }));
      const err = await waitFor(async () => (await events(page, 'error')).find((e) => /The seek to 86400\.000 s was stopped at \d+\.\d{3} s \(\d+ engine events replayed\)\./.test(e.data.message)), 10_000, 'the error event');
      return `${err.data.message}; max frame gap ${Math.round(hb.maxGap)} ms, longest task ${Math.round(hb.maxTask)} ms`;
    });
  } finally {
    await page.close().catch(() => {});
  }
}

async function origins(context, W, H, X) {
  const port = new URL(H).port;
  for (const spelled of [`http://127.0.0.1.:${port}`, `http://0x7f.0.0.1:${port}`, `http://2130706433:${port}`, `http://127.0.0.1:0${port}`]) {
    const label = `origin ${spelled} refused with a banner`;
    if (ONLY && !label.includes(ONLY)) continue;
    const { page } = await newPage(context);
    try {
      await page.goto(`${W}/?embed=1&origins=${encodeURIComponent(spelled)}`, { timeout: APP_START_TIMEOUT });
      await check(label, async () => {
        const banner = await page.locator(tid('error')).textContent({ timeout: APP_START_TIMEOUT });
        const want = `Origin \`${spelled}\` in the URL (?origins=) is read by the browser as \`http://127.0.0.1:${port}\``;
        assert(banner.includes(want), `banner: ${banner}`);
      });
    } finally {
      await page.close().catch(() => {});
    }
  }
  {
    const label = 'origin http://[::1] (no port) accepted without a banner';
    if (!ONLY || label.includes(ONLY)) {
      const { page } = await newPage(context);
      try {
        await page.goto(`${W}/?embed=1&origins=${encodeURIComponent('http://[::1]')}`, { timeout: APP_START_TIMEOUT });
        await page.locator(tid('topology')).first().waitFor({ timeout: APP_START_TIMEOUT });
        await check(label, async () => assert((await page.locator(tid('error')).count()) === 0, 'a banner'));
      } finally {
        await page.close().catch(() => {});
      }
    }
  }
  const label = 'origins: the allowed host talks to the widget, another origin does not';
  if (ONLY && !label.includes(ONLY)) return;
  const widget = `${W}/?embed=1&origins=${H}`;
  const a = await hostPage(context, H, widget);
  const b = await hostPage(context, X, widget);
  try {
    await b.page.evaluate(() => window.send({ msgsim: 1, type: 'play', id: 'x' }));
    await a.page.evaluate(() => window.send({ msgsim: 1, type: 'play', id: 'h' }));
    await sleep(1_500);
    await check(label, async () => {
      const ha = await events(a.page);
      const hx = await events(b.page);
      assert(ha.some((e) => e.data.type === 'ready') && ha.some((e) => e.data.type === 'state' && e.data.playing), 'the allowed host got no ready/state playing');
      assert(hx.length === 0, `the other origin got ${hx.length} events`);
      const playing = await b.frame.locator(tid('play')).getAttribute('aria-pressed').catch(() => null);
      return `allowed host: ${ha.length} events; other origin: 0 (its play ignored${playing === null ? '' : `, play pressed=${playing}`})`;
    });
  } finally {
    await a.page.close().catch(() => {});
    await b.page.close().catch(() => {});
  }
}

// The exports of a scenario whose names are hostile: well-formed and without injection, or the
// scenario is refused at validation with a clear error.
async function exportsCase(context, W) {
  const label = 'exports of hostile names';
  if (ONLY && !label.includes(ONLY)) return;
  // Every string equal to one of three node names (nodes, links, channels' consumers,
  // workloads) becomes a hostile name.
  // (Not `broker`: it is also a node kind.)
  const rename = new Map(['order', 'kitchen', 'accounting'].map((n, k) => [n, HOSTILE_NAMES[k]]));
  const hostile = JSON.stringify(ORDER_EVENTS, (k, v) => (typeof v === 'string' && rename.has(v) ? rename.get(v) : v));
  const { page } = await newPage(context);
  try {
    await page.goto(`${W}/?scenario=order-events&seed=1`, { timeout: APP_START_TIMEOUT });
    await page.locator(tid('upload')).first().waitFor({ state: 'attached', timeout: APP_START_TIMEOUT });
    await page.locator(tid('upload')).setInputFiles({ name: 'hostile.json', mimeType: 'application/json', buffer: Buffer.from(hostile) });
    await sleep(500);
    const refused = await page.locator(tid('upload-error')).textContent({ timeout: 1_000 }).catch(() => null);
    if (refused) {
      await check(`${label}: refused at validation`, async () => {
        assert(/name/i.test(refused), `upload error: ${refused}`);
        return refused;
      });
      return;
    }
    for (let k = 0; k < 4; k++) await page.locator(tid('advance')).first().click();
    const download = async (id) => {
      const [d] = await Promise.all([page.waitForEvent('download', { timeout: 10_000 }), page.locator(tid(id)).first().click()]);
      return fs.readFileSync(await d.path(), 'utf8');
    };
    const mermaid = await download('export-mermaid');
    const svg = await download('export-svg');
    const jsonl = await download('export-jsonl');
    await check(`${label}: Mermaid`, async () => {
      const lines = mermaid.split('\n').filter(Boolean);
      assert(lines[0] === 'sequenceDiagram', lines[0]);
      for (const l of lines.slice(1)) {
        assert(/^ {4}(participant n\d+ as |Note over n\d+(,n\d+)?: |n\d+(->>|-x)n\d+: )/.test(l), `a line no exporter wrote: ${JSON.stringify(l)}`);
        assert(!l.includes('%%') && !l.includes('\u0001'), `unescaped: ${JSON.stringify(l)}`);
      }
      assert(lines.includes('    participant n0 as x #37;#37;{init:{#quot;theme#quot;:#quot;dark#quot;}}#37;#37;'), lines.slice(0, 4).join(' | '));
      return `${lines.length} lines`;
    });
    await check(`${label}: SVG is well-formed XML`, async () => {
      const r = await page.evaluate((text) => {
        const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
        const err = doc.querySelector('parsererror');
        return { err: err ? err.textContent : null, scripts: doc.querySelectorAll('script').length, texts: [...doc.querySelectorAll('text')].map((t) => t.textContent) };
      }, svg);
      assert(r.err === null, `parser error: ${r.err}`);
      assert(r.scripts === 0, `${r.scripts} script elements`);
      assert(r.texts.includes('</text><script>\uFFFD'), 'the hostile lifeline name is not read back as text');
    });
    await check(`${label}: JSON Lines`, async () => {
      const lines = jsonl.split('\n').filter(Boolean);
      const nodes = new Set(lines.map((l) => JSON.parse(l)).flatMap((e) => [e.from?.node, e.to?.node, e.at?.node]).filter(Boolean));
      for (const n of HOSTILE_NAMES) assert(nodes.has(n), `${JSON.stringify(n)} not read back`);
      return `${lines.length} lines`;
    });
  } catch (e) {
    await check(label, () => { throw e; });
  } finally {
    await page.close().catch(() => {});
  }
}

// ------------------------------------------------------------------- main ---
async function main() {
  const watchdog = setTimeout(() => {
    log(`watchdog: still running after ${WATCHDOG_MS} ms, giving up`);
    process.exit(2);
  }, WATCHDOG_MS);
  watchdog.unref();
  assert(fs.existsSync(path.join(DIST, 'index.html')), `no ${DIST}/index.html: run trunk build --release first`);
  const servers = [];
  for (const p of PORTS) servers.push(await startServer(p));
  const [W, H, X] = servers.map((s) => `http://127.0.0.1:${s.address().port}`);
  log(`serving ${DIST} as W=${W} (widget), H=${H} (allowed host), X=${X} (other origin)`);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--no-first-run', '--disable-quic'],
  });
  try {
    const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
    await context.addInitScript(HEARTBEAT);
    for (const c of [
      () => origins(context, W, H, X),
      () => exportsCase(context, W),
      () => hostileLinks(context, W),
      () => hostLoad(context, W, H),
      () => seek(context, W, H),
      () => flood(context, W, H),
    ]) {
      await c().catch((e) => check('unexpected error', () => { throw e; }));
    }
  } finally {
    await browser.close().catch(() => {});
    for (const s of servers) s.close();
  }
  log('measured (max frame gap and longest task, ms):');
  for (const m of measured) log('  ' + JSON.stringify(m));
  const failed = results.filter((r) => !r.ok);
  log(`${results.length - failed.length} passed, ${failed.length} failed`);
  process.exit(failed.length ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
