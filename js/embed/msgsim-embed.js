/*
 * <msgsim-embed>: a live msgsim scenario in a documentation page, in one line.
 *
 *   <script src="https://example.org/msgsim/msgsim-embed.js" defer></script>
 *   <msgsim-embed scenario="outbox-polling" seed="7">
 *     <a href="https://example.org/msgsim/?scenario=outbox-polling&seed=7">Open the outbox-polling scenario</a>
 *   </msgsim-embed>
 *
 * The element frames the lean msgsim widget (`widget/`) of a hosted playground, lazily: the iframe is
 * made when the element comes within 200 px of the viewport (or at once with `loading="eager"`).
 * Without JavaScript the element's children (a plain link) show instead.
 *
 * Attributes (all optional but one of `scenario` / `run`):
 *   scenario   a built-in scenario name, e.g. "outbox-polling" (see the playground's gallery)
 *   seed       the seed, a decimal integer (default: the scenario's own)
 *   run        a shared run (`v1.…`, from the playground's "Copy link"): scenario, seed and
 *              commands at their places; takes precedence over scenario/seed
 *   src        the playground's URL (default: the folder this script was loaded from; required
 *              when the script is bundled, e.g. `import "msgsim/embed"`)
 *   height     the frame's height in CSS px before the widget reports its own (default 400;
 *              160–1600)
 *   loading    "lazy" (default) or "eager"
 *   title      the iframe's accessible title (default "msgsim: <scenario>")
 *   autoplay   (boolean) play as soon as the widget is ready, once (not when the reader's system
 *              asks for reduced motion); without it the widget waits for Play or `el.play()`
 *
 * Sizing: the widget posts `{"msgsim":1,"type":"size","height":N}` (the height its canvas needs at
 * the frame's width, in CSS px); the element takes it, clamped to 160–1600 px.
 *
 * Events: every message of the widget's protocol (docs/embed.md) is dispatched on the element as a
 * DOM CustomEvent `msgsim-<type>` (`msgsim-ready`, `msgsim-state`, `msgsim-metrics`,
 * `msgsim-error`, `msgsim-size`) with the message as `detail`. `el.send(request)` posts a request
 * (`{type:"play"}`, `{type:"seek", to_ms:3000}`, `{type:"command", command:{…}}`; the `msgsim: 1`
 * version field is added) and queues it until the widget is ready (at most 100 queued).
 *
 * Origins: the element passes the host page's origin to the widget (`origins=`), so the widget
 * accepts its requests; it accepts messages only from its own iframe and the playground's origin.
 */
(function () {
  "use strict";
  if (typeof window === "undefined" || !window.customElements) return;
  if (window.customElements.get("msgsim-embed")) return;

  const MIN_H = 160;
  const MAX_H = 1600;
  const MAX_QUEUED = 100;
  const script = document.currentScript;
  const defaultSrc = script && script.src ? new URL("./", script.src).href : null;

  function clampHeight(v, fallback) {
    const n = Number(v);
    if (!Number.isFinite(n)) return fallback;
    return Math.round(Math.min(MAX_H, Math.max(MIN_H, n)));
  }

  class MsgsimEmbed extends HTMLElement {
    static get observedAttributes() {
      return ["scenario", "seed", "run", "src", "height", "title"];
    }

    constructor() {
      super();
      this._queue = [];
      this._ready = false;
      this._frame = null;
      this._observer = null;
      this._onMessage = this._onMessage.bind(this);
      const root = this.attachShadow({ mode: "open" });
      root.innerHTML =
        "<style>" +
        ":host{display:block;max-width:100%;margin:1em 0}" +
        "iframe{display:block;width:100%;border:1px solid #d9dee7;border-radius:10px;box-sizing:border-box;background:transparent}" +
        ".placeholder{display:flex;align-items:center;justify-content:center;border:1px dashed #d9dee7;border-radius:10px;color:#5d6878;font:14px system-ui,sans-serif;box-sizing:border-box}" +
        ".error{color:#b42318}" +
        "</style>" +
        '<div class="placeholder" part="placeholder">msgsim scenario (loads when visible)</div>';
      this._box = root.querySelector(".placeholder");
    }

    /** The playground URL the frame loads, or null with a reason in `this._problem`. */
    widgetUrl() {
      const base = this.getAttribute("src") || defaultSrc;
      this._problem = null;
      if (!base) {
        this._problem = "set the src attribute to the playground's URL";
        return null;
      }
      let url;
      try {
        url = new URL(base, document.baseURI);
      } catch (e) {
        this._problem = "src is not a URL: " + base;
        return null;
      }
      if (url.protocol !== "https:" && url.protocol !== "http:") {
        this._problem = "src must be an http(s) URL";
        return null;
      }
      // The frame loads the lean widget, `widget/` beside the playground (a smaller download;
      // it hands an Avro scenario over to the playground's own `?embed=1`).
      if (!/\/widget\/(index\.html)?$/.test(url.pathname)) {
        if (!url.pathname.endsWith("/") && !/\.html?$/i.test(url.pathname)) url.pathname += "/";
        url = new URL("widget/", url);
      }
      const run = this.getAttribute("run");
      const scenario = this.getAttribute("scenario");
      const seed = this.getAttribute("seed");
      const q = new URLSearchParams();
      if (run) {
        q.set("run", run);
      } else if (scenario) {
        q.set("scenario", scenario);
        if (seed !== null && seed !== "") q.set("seed", seed);
      } else {
        this._problem = "give a scenario or a run attribute";
        return null;
      }
      q.set("embed", "1");
      if (location.origin && location.origin !== "null" && location.origin !== url.origin) {
        q.set("origins", location.origin);
      }
      url.search = q.toString();
      url.hash = "";
      return url;
    }

    connectedCallback() {
      window.addEventListener("message", this._onMessage);
      this._sizeBox();
      if (this._frame) return;
      if (this.getAttribute("loading") === "eager" || !("IntersectionObserver" in window)) {
        this._load();
        return;
      }
      this._observer = new IntersectionObserver(
        (entries) => {
          if (entries.some((e) => e.isIntersecting)) this._load();
        },
        { rootMargin: "200px" },
      );
      this._observer.observe(this);
    }

    disconnectedCallback() {
      window.removeEventListener("message", this._onMessage);
      if (this._observer) this._observer.disconnect();
      this._observer = null;
    }

    attributeChangedCallback(name, before, after) {
      if (before === after) return;
      if (name === "height") this._sizeBox();
      if (name === "title" && this._frame) this._frame.title = this._title();
      if (this._frame && ["scenario", "seed", "run", "src"].includes(name)) {
        this._frame.remove();
        this._frame = null;
        this._ready = false;
        this._load();
      }
    }

    /** Posts a request to the widget (queued until it said `ready`). */
    send(request) {
      const msg = Object.assign({ msgsim: 1 }, request);
      if (!this._ready || !this._frame || !this._frame.contentWindow) {
        if (this._queue.length < MAX_QUEUED) this._queue.push(msg);
        return;
      }
      this._frame.contentWindow.postMessage(msg, this._origin);
    }

    play() { this.send({ type: "play" }); }
    pause() { this.send({ type: "pause" }); }
    seek(toMs) { this.send({ type: "seek", to_ms: toMs }); }
    command(command) { this.send({ type: "command", command }); }

    _title() {
      return this.getAttribute("title") || "msgsim: " + (this.getAttribute("scenario") || "shared run");
    }

    _sizeBox() {
      const h = clampHeight(this.getAttribute("height"), 400);
      this._height = this._height || h;
      const el = this._frame || this._box;
      if (el) el.style.height = (this._frame ? this._height : h) + "px";
    }

    _load() {
      if (this._observer) this._observer.disconnect();
      this._observer = null;
      const url = this.widgetUrl();
      if (!url) {
        this._box.textContent = "msgsim-embed: " + this._problem;
        this._box.classList.add("error");
        return;
      }
      this._origin = url.origin;
      const frame = document.createElement("iframe");
      frame.src = url.href;
      frame.title = this._title();
      frame.setAttribute("part", "frame");
      frame.setAttribute("allow", "clipboard-write");
      frame.style.height = clampHeight(this.getAttribute("height"), 400) + "px";
      this._height = clampHeight(this.getAttribute("height"), 400);
      this._frame = frame;
      this._box.replaceWith(frame);
      this._box = null;
    }

    _onMessage(ev) {
      if (!this._frame || ev.source !== this._frame.contentWindow || ev.origin !== this._origin) return;
      const m = ev.data;
      if (!m || typeof m !== "object" || m.msgsim !== 1 || typeof m.type !== "string") return;
      if (m.type === "ready") {
        this._ready = true;
        const queued = this._queue.splice(0);
        queued.forEach((q) => this._frame.contentWindow.postMessage(q, this._origin));
        // `autoplay`: play once ready, unless the reader asked the system for reduced motion.
        const still = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
        if (this.hasAttribute("autoplay") && !still && !this._autoplayed) {
          this._autoplayed = true;
          this._frame.contentWindow.postMessage({ msgsim: 1, type: "play" }, this._origin);
        }
      }
      if (m.type === "size") {
        this._height = clampHeight(m.height, this._height);
        this._frame.style.height = this._height + "px";
      }
      if (!/^[a-z]{1,20}$/.test(m.type)) return;
      this.dispatchEvent(new CustomEvent("msgsim-" + m.type, { detail: m, bubbles: true, composed: true }));
    }
  }

  window.customElements.define("msgsim-embed", MsgsimEmbed);
})();
