// Opens a built page in headless Chromium and prints the text of its #out element once the page
// writes "done" into #status (or an error). Used by js/tests/package.sh for the Vite build.
//   node browser.mjs <url> <playwright-core dir>
import { createRequire } from "node:module";

const [url, pw] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const { chromium } = require(pw);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
});
try {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  await page.goto(url);
  await page.waitForFunction(() => document.getElementById("status")?.textContent !== "running", null, { timeout: 60_000 });
  const status = await page.textContent("#status");
  if (status !== "done" || errors.length) {
    console.error(`page status ${status}; errors: ${errors.join(" | ")}`);
    process.exit(1);
  }
  process.stdout.write(await page.textContent("#out"));
} finally {
  await browser.close();
}
