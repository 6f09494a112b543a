// CabinCare shared UI helpers, loaded by the crew app, the agent console and
// the fleet dashboard from /shared/ui.js before their own script.
//
// Plain ES2020, no build step. Everything a page inserts is built with DOM
// nodes and textContent (never innerHTML), so API data can never become
// markup. The only global is window.CabinUI.
"use strict";

(function () {
  function $(sel, root) { return (root || document).querySelector(sel); }

  // h builds an element. props: class, text, on<event>, dataset, other attributes.
  // Children may be nodes, strings (inserted as text), arrays, or null/false (skipped).
  function h(tag, props, ...kids) {
    const el = document.createElement(tag);
    setProps(el, props);
    appendKids(el, kids);
    return el;
  }

  // svg builds an SVG element the same way (charts are drawn with it).
  function svg(tag, props, ...kids) {
    const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
    setProps(el, props);
    appendKids(el, kids);
    return el;
  }

  function setProps(el, props) {
    if (!props) return;
    for (const [k, v] of Object.entries(props)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") el.setAttribute("class", v);
      else if (k === "text") el.textContent = v;
      else if (k === "dataset") Object.assign(el.dataset, v);
      else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
      else if (v === true) el.setAttribute(k, "");
      else el.setAttribute(k, String(v));
    }
  }

  function appendKids(el, kids) {
    for (const k of kids.flat(Infinity)) {
      if (k === null || k === undefined || k === false) continue;
      el.append(k instanceof Node ? k : String(k));
    }
  }

  function fill(el, ...kids) {
    el.replaceChildren();
    appendKids(el, kids);
    return el;
  }

  // ---------------------------------------------------------------------------
  // The one fetch wrapper. Every API call of every page goes through it, so
  // auth and CSRF are decided here and nowhere else.
  // ---------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(code, message, status) {
      super(message);
      this.code = code;
      this.status = status;
    }
  }

  const CSRF_COOKIE = "cabincare_csrf";
  const CSRF_HEADER = "X-CSRF-Token";

  function cookie(name) {
    for (const part of String(document.cookie || "").split(";")) {
      const i = part.indexOf("=");
      if (i > 0 && part.slice(0, i).trim() === name) return decodeURIComponent(part.slice(i + 1).trim());
    }
    return "";
  }

  // client returns api(method, path, body) → parsed JSON.
  // cfg: base ("/api/v1"), timeoutMs, token() (bearer token or ""),
  // text(code, status) for the messages of network/timeout/http errors,
  // onUnauthorized(err) called on a 401 before the error is thrown,
  // onResult(ok, err) called after every call (connection indicators).
  function client(cfg) {
    const base = cfg.base || "/api/v1";
    const timeoutMs = cfg.timeoutMs || 10000;
    const text = cfg.text || ((code, status) => code === "http" ? "Error " + status : code);
    const report = cfg.onResult || (() => {});
    return async function api(method, path, body) {
      const ctrl = new AbortController();
      const timer = setTimeout(() => ctrl.abort(), timeoutMs);
      const headers = { Accept: "application/json" };
      const tok = cfg.token ? cfg.token() : "";
      if (tok) headers.Authorization = "Bearer " + tok;
      const csrf = method !== "GET" ? cookie(CSRF_COOKIE) : "";
      if (csrf) headers[CSRF_HEADER] = csrf;
      const opts = { method, headers, signal: ctrl.signal, cache: "no-store", credentials: "same-origin" };
      if (body !== undefined) {
        headers["Content-Type"] = "application/json";
        opts.body = JSON.stringify(body);
      }
      try {
        let res;
        try {
          res = await fetch(base + path, opts);
        } catch (e) {
          const err = e && e.name === "AbortError"
            ? new ApiError("timeout", text("timeout"), 0)
            : new ApiError("network", text("network"), 0);
          report(false, err);
          throw err;
        }
        let data = null;
        if (res.ok && String(res.headers.get("Content-Type") || "").startsWith("image/")) {
          report(true, null);
          return await res.blob(); // drawn on the server (a QR code)
        }
        try {
          const body = await res.text();
          data = body ? JSON.parse(body) : null;
        } catch (_) {
          data = null;
        }
        if (!res.ok) {
          const e = data && data.error ? data.error : {};
          const err = new ApiError(e.code || "http_" + res.status, e.message || text("http", res.status), res.status);
          if (res.status === 401 && cfg.onUnauthorized) cfg.onUnauthorized(err);
          report(true, err);
          throw err;
        }
        report(true, null);
        return data;
      } finally {
        clearTimeout(timer);
      }
    };
  }

  // ---------------------------------------------------------------------------
  // Live events: a Server-Sent Events stream read through fetch, so the
  // bearer token travels in a header (EventSource cannot send one).
  // cfg: url, token(), onEvent(type, data). A ground without the endpoint
  // (404, 405, 501) ends it for good and the page keeps polling; any other
  // failure reconnects with a capped backoff. Returns stop().
  // ---------------------------------------------------------------------------

  function events(cfg) {
    let stopped = false;
    let ctrl = null;
    let backoff = 1000;
    async function run() {
      while (!stopped) {
        ctrl = new AbortController();
        try {
          const headers = { Accept: "text/event-stream" };
          const tok = cfg.token ? cfg.token() : "";
          if (tok) headers.Authorization = "Bearer " + tok;
          const res = await fetch(cfg.url, { headers, signal: ctrl.signal, cache: "no-store", credentials: "same-origin" });
          if ([404, 405, 501].includes(res.status)) return;
          if (!res.ok || !res.body) throw new Error("events: status " + res.status);
          backoff = 1000;
          const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
          let buf = "";
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            buf += value;
            let i;
            while ((i = buf.indexOf("\n\n")) >= 0) {
              const block = buf.slice(0, i);
              buf = buf.slice(i + 2);
              let type = "message";
              const data = [];
              for (const line of block.split("\n")) {
                if (line.startsWith("event:")) type = line.slice(6).trim();
                else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
              }
              if (data.length || type !== "message") {
                let parsed = data.join("\n");
                try { parsed = JSON.parse(parsed); } catch (_) { /* plain text data */ }
                cfg.onEvent(type, parsed);
              }
            }
          }
        } catch (_) {
          if (stopped) return;
        }
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, 30000);
      }
    }
    run();
    return () => { stopped = true; if (ctrl) ctrl.abort(); };
  }

  // ---------------------------------------------------------------------------
  // Polling loops: one run at a time, paused while the page is hidden or
  // active() says no; calling the returned function runs it now.
  // ---------------------------------------------------------------------------

  function makeLoop(fn, ms, active) {
    let timer = null;
    let running = false;
    let again = false;
    async function run() {
      clearTimeout(timer);
      timer = null;
      if (running) { again = true; return; }
      running = true;
      try {
        if (!document.hidden && (!active || active())) await fn();
      } catch (_) {
        // fn reports its own errors; a loop never dies
      }
      running = false;
      if (again) { again = false; run(); return; }
      timer = setTimeout(run, ms);
    }
    return run;
  }

  // ---------------------------------------------------------------------------
  // Toasts, storage and time
  // ---------------------------------------------------------------------------

  function toast(message, kind, title) {
    kind = kind || "info";
    const box = document.getElementById("toasts");
    if (!box) return;
    const el = h("div", { class: "toast toast-" + kind, role: kind === "error" ? "alert" : "status", title: title || undefined }, message);
    el.addEventListener("click", () => el.remove());
    box.append(el);
    while (box.children.length > 3) box.firstElementChild.remove();
    setTimeout(() => el.remove(), kind === "error" ? 7000 : 3500);
  }

  // store returns window[kind] (localStorage or sessionStorage) or an
  // in-memory stand-in where storage is unavailable (private mode, policies).
  const memory = {};
  function store(kind) {
    try {
      const s = window[kind];
      const probe = "__cabincare__";
      s.setItem(probe, probe);
      s.removeItem(probe);
      return s;
    } catch (_) {
      return {
        getItem: (k) => (k in memory ? memory[k] : null),
        setItem: (k, v) => { memory[k] = String(v); },
        removeItem: (k) => { delete memory[k]; },
      };
    }
  }

  function ms(iso) { return iso ? Date.parse(iso) : NaN; }

  // clock: "14:05" today, "3 Nov 14:05" on another day.
  function clock(iso, lang) {
    const t = ms(iso);
    if (!Number.isFinite(t)) return "";
    const d = new Date(t);
    const time = d.toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit" });
    if (d.toDateString() === new Date().toDateString()) return time;
    return d.toLocaleDateString(lang, { day: "numeric", month: "short" }) + " " + time;
  }

  function fullTime(iso, lang) {
    const t = ms(iso);
    return Number.isFinite(t) ? new Date(t).toLocaleString(lang) : "";
  }

  // duration: a compact "4m", "1h 05m", "2d" for a number of seconds.
  function duration(sec) {
    const s = Math.max(0, Math.round(Math.abs(sec)));
    if (s < 60) return s + "s";
    const m = Math.floor(s / 60);
    if (m < 60) return m + "m";
    const hr = Math.floor(m / 60);
    if (hr < 48) return hr + "h " + String(m % 60).padStart(2, "0") + "m";
    return Math.floor(hr / 24) + "d";
  }

  window.CabinUI = Object.freeze({ $, h, svg, fill, appendKids, ApiError, client, events, makeLoop, toast, store, ms, clock, fullTime, duration });
})();
