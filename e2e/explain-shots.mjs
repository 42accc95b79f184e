// Screenshots of "What just happened", the infrastructure boxes and the message close-up.
//
//   node e2e/explain-shots.mjs <base-url>     (a server on dist/, e.g. python3 -m http.server)
//
// For circuit-breaker, discovery-server-side, schema-rollout and schema-registry: advance some
// seconds of virtual time, click a message on the canvas, and save the page (1400x900) and the
// explain box to e2e/out/explain-<scenario>*.png. Prints the sentences shown.
import path from 'node:path';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const OUT = path.join(HERE, 'out');
fs.mkdirSync(OUT, { recursive: true });
const BASE = process.argv[2] || 'http://127.0.0.1:18615/';
const CASES = [
  ['circuit-breaker', 9],
  ['discovery-server-side', 6],
  ['schema-rollout', 5],
  ['schema-registry', 9],
  ['rpi-rest', 3],
];
const tid = (t) => `[data-testid="${t}"]`;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
try {
  for (const [name, secs] of CASES) {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('pageerror', (e) => console.log(`[${name}] pageerror ${e.message}`));
    await page.goto(`${BASE}?scenario=${name}`);
    await page.locator(tid('advance')).first().waitFor({ state: 'visible', timeout: 30_000 });
    // Stop autoplay if any, then advance whole seconds.
    for (let i = 0; i < secs; i++) await page.locator(tid('advance')).first().click();
    await page.waitForTimeout(300);
    const sentences = await page.locator(`${tid('explain')} li`).allInnerTexts().catch(() => []);
    console.log(`== ${name} at ${secs} s`);
    for (const s of sentences) console.log(`  ${s.replace(/\s+/g, ' ')}`);
    const boxes = await page.locator('g.node.infra').evaluateAll((gs) => gs.map((g) => g.textContent));
    for (const b of boxes) console.log(`  box: ${b}`);
    // Click the first message on the canvas.
    const pt = await page.evaluate(() => {
      const c = document.querySelector('[data-testid="message-layer"]');
      const m = c && c.msgsimMessages ? c.msgsimMessages().find((x) => x.drawn) : null;
      if (!m) return null;
      const p = new DOMPoint(m.x, m.y).matrixTransform(document.querySelector('svg[data-testid="topology"]').getScreenCTM());
      return { x: p.x, y: p.y };
    });
    if (pt) {
      await page.mouse.click(pt.x, pt.y);
      await page.waitForTimeout(200);
      const head = await page.locator(tid('inspector-head')).innerText().catch(() => '(no inspector)');
      const life = await page.locator(tid('life-line')).allInnerTexts().catch(() => []);
      console.log(`  inspector: ${head}; ${life.length} life lines; first: ${life[0] || ''}`);
    }
    await page.screenshot({ path: path.join(OUT, `explain-${name}.png`) });
    const ex = page.locator('section.explain').first();
    if (await ex.count()) {
      await ex.scrollIntoViewIfNeeded();
      await ex.screenshot({ path: path.join(OUT, `explain-${name}-box.png`) });
    }
    const insp = page.locator(tid('message-inspector')).first();
    if (await insp.count()) {
      await insp.scrollIntoViewIfNeeded();
      await insp.screenshot({ path: path.join(OUT, `explain-${name}-inspector.png`) });
    }
    const topo = page.locator(tid('topology')).first();
    await topo.scrollIntoViewIfNeeded();
    await topo.screenshot({ path: path.join(OUT, `explain-${name}-canvas.png`) });
    await page.close();
  }
} finally {
  await browser.close();
}
