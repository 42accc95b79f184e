// Node ES module entry of the msgsim package (`import … from "msgsim"` under Node).
//
// It loads the same WebAssembly module as the browser entry (../web/), synchronously from the
// package's own folder, so the API is ready as soon as the import resolves. `init()` is still
// exported (it resolves at once) so that one piece of code runs unchanged in Node and in browsers.
import { readFileSync } from "node:fs";
import { initSync } from "../web/msgsim_js.js";

initSync({ module: readFileSync(new URL("../web/msgsim_js_bg.wasm", import.meta.url)) });

export * from "../web/msgsim_js.js";

/** Already initialised under Node: resolves at once (kept for code shared with browsers). */
export default async function init() {}
