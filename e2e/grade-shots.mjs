// Screenshots for the new-user grader's findings (issue 11, grade 2): desktop 1400x900 and phone
// 390x844 after running scenarios a number of virtual seconds (Advance clicks), plus embeds.
//
//   node e2e/grade-shots.mjs <base-url> [case,...]
//
// Cases: name:seconds[:phone|:embed640|:embed320]. Saves e2e/out/grade-<name>-<secs>[-<mode>].png
// and prints the story lines and the page's "story-call".
import path from 'node:path';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const OUT = path.join(HERE, 'out');
fs.mkdirSync(OUT, { recursive: true });
const BASE = process.argv[2] || 'http://127.0.0.1:18641/';
const CASES = (process.argv[3] || 'broker-bottleneck:45,circuit-breaker:20').split(',');
const tid = (t) => `[data-testid="${t}"]`;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
try {
  for (const c of CASES) {
    const [name, secsS, mode = 'desk'] = c.split(':');
    const secs = Number(secsS);
    const vp = { desk: [1400, 900], phone: [390, 844], embed640: [640, 400], embed320: [320, 240], compare: [1400, 900] }[mode];
    const page = await browser.newPage({ viewport: { width: vp[0], height: vp[1] } });
    page.on('pageerror', (e) => console.log(`[${name}] pageerror ${e.message}`));
    const embed = mode.startsWith('embed');
    if (mode === 'compare') {
      // The compare view of the pair `name`, run to its horizon.
      await page.goto(`${BASE}?compare=${name}`);
      await page.locator(tid('compare-facts')).waitFor({ timeout: 30_000 });
      await page.waitForTimeout(secs * 1000);
      const file = path.join(OUT, `grade-compare-${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      console.log(`== ${file}\n  facts: ${await page.locator(tid('compare-facts')).textContent()}`);
      await page.close();
      continue;
    }
    await page.goto(`${BASE}?scenario=${name}${embed ? '&embed=1' : ''}`);
    await page.locator(tid(embed ? 'play' : 'advance')).first().waitFor({ state: 'visible', timeout: 30_000 });
    if (embed) {
      await page.locator(tid('play')).first().click();
      await page.waitForTimeout(secs * 1000);
      if (process.env.LEGEND) await page.locator(tid('legend-toggle')).click();
    } else {
      for (let i = 0; i < secs; i++) await page.locator(tid('advance')).first().click();
      if (process.env.PLAY) {
        await page.locator(tid('play')).first().click();
        await page.waitForTimeout(Number(process.env.PLAY));
      }
    }
    if (process.env.INSPECT) {
      // Pause, open the sequence diagram and click the first arrow of an old (processed) message.
      await page.locator(tid('pause')).first().click().catch(() => {});
      await page.locator(tid('tab-sequence')).click();
      const toggle = page.locator(tid('seq-toggle'));
      if ((await toggle.getAttribute('aria-expanded').catch(() => 'true')) === 'false') await toggle.click();
      const arrow = page.locator(`${tid('seq-arrow')}[data-msg-id]`).first();
      await arrow.waitFor({ timeout: 5_000 });
      await arrow.dispatchEvent('click');
      await page.locator(tid('inspector-head')).first().waitFor({ timeout: 5_000 });
      await page.locator(tid('message-inspector')).first().scrollIntoViewIfNeeded();
      console.log(`  inspector: ${(await page.locator(tid('message-inspector')).first().innerText()).replace(/\s+/g, ' ').slice(0, 400)}`);
    }
    await page.waitForTimeout(400);
    const file = path.join(OUT, `grade-${name}-${secs}-${mode}${process.env.LEGEND ? '-legend' : ''}${process.env.INSPECT ? '-inspect' : ''}.png`);
    await page.screenshot({ path: file });
    console.log(`== ${file}`);
    const call = await page.locator(tid('story-call')).textContent().catch(() => '');
    console.log(`  call: ${call}`);
    const lines = await page.locator(`${tid('explain')} li`).allInnerTexts().catch(() => []);
    for (const s of lines.slice(0, 12)) console.log(`  ${s.replace(/\s+/g, ' ').slice(0, 220)}`);
    await page.close();
  }
} finally {
  await browser.close();
}
