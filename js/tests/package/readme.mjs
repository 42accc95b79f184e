// Reads the package README's runnable parts (js/npm/README.md): the fenced block after the marker
// `<!-- example:NAME` and the expected output (the ```text block after each (what it prints)).
//   node readme.mjs esm|cjs|expected-esm|expected-cjs <README.md>   -> prints that block
import { readFileSync } from "node:fs";

const [what, file] = process.argv.slice(2);
const text = readFileSync(file, "utf8");

function blockAfter(marker, fence) {
  const at = text.indexOf(marker);
  if (at < 0) throw new Error(`README has no ${marker}`);
  const start = text.indexOf(fence, at);
  if (start < 0) throw new Error(`README has no ${fence} block after ${marker}`);
  const body = start + fence.length + 1;
  const end = text.indexOf("\n```", body);
  return text.slice(body, end + 1);
}

const out = {
  esm: () => blockAfter("<!-- example:esm", "```js"),
  cjs: () => blockAfter("<!-- example:cjs", "```js"),
  "expected-esm": () => blockAfter("<!-- example:esm", "```text"),
  "expected-cjs": () => blockAfter("<!-- example:cjs", "```text"),
}[what];
if (!out) throw new Error(`unknown part ${what}`);
process.stdout.write(out());
