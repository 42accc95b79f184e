// Opens a documentation page built by a site generator (docs/recipes/check.sh) in headless
// Chromium and checks the <msgsim-embed> element on it: it frames the widget, whose canvas draws,
// and the frame takes the height the widget reports. Prints one line; exits 1 on failure.
//   node e2e/recipes.mjs <name> <page url>
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');
const [name, url] = process.argv.slice(2);
const OUT = process.env.E2E_OUT || path.join(HERE, 'out');

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
});
let ok = false;
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(url);
  const el = page.locator('msgsim-embed').first();
  await el.scrollIntoViewIfNeeded();
  await page.frameLocator('msgsim-embed iframe').locator('[data-testid="topology"]').waitFor({ state: 'visible', timeout: 30_000 });
  const height = async () => page.evaluate(() => document.querySelector('msgsim-embed').shadowRoot.querySelector('iframe').getBoundingClientRect().height);
  const end = Date.now() + 10_000;
  let h = await height();
  while (h === 400 && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 100));
    h = await height();
  }
  if (h === 400) throw new Error('the frame kept its default 400 px: no size event arrived');
  // The frame just grew: let the widget redraw at its new size before the screenshot (under load
  // a screenshot taken at once caught a blank frame).
  await page.frameLocator('msgsim-embed iframe').locator('[data-testid="topology"]').waitFor({ state: 'visible', timeout: 10_000 });
  await new Promise((r) => setTimeout(r, 500));
  await page.screenshot({ path: path.join(OUT, `recipe-${name}.png`), fullPage: true });
  console.log(`ok: ${name} recipe: <msgsim-embed> framed the widget (canvas drawn, frame ${h} px)`);
  ok = true;
} catch (e) {
  console.error(`FAILED: ${name} recipe: ${e.message}`);
} finally {
  await browser.close();
}
process.exit(ok ? 0 : 1);
