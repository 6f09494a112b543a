// CabinCare fleet dashboard (ground server, sync admins).
//
// Every device at a glance with the alerts on top, a device's sync history
// as a chart, and the lifecycle actions. Built on GET /api/v1/devices; the
// richer report of the sync-admin issue (version, oldest pending, skew, last
// error, 24 h history) is read where present and derived or left blank where
// not. Plain ES2020, DOM nodes only (never innerHTML). The sign-in is the
// console's (same origin, same session storage). Global: window.CabinFleet.
"use strict";

(function () {
  const { $, h, svg, fill, duration } = window.CabinUI;
  const TOKEN_KEY = "cabincare.console.token"; // shared with the console
  const POLL_MS = 2000;
  const SAMPLE_CAP = 24 * 3600 / 2; // a day of samples at the poll rate
  const SKEW_ALERT_MS = 30000;
  const STALE_SYNC_MS = 2 * 3600000;

  const session = window.CabinUI.store("sessionStorage");
  const state = {
    token: session.getItem(TOKEN_KEY) || "",
    devices: null,
    sig: "",
    selected: null,
    filter: "",
    samples: {}, // device id → [{t, online, pending, lag}] seen by this page
    lastOk: 0,
    lastError: null,
    stopEvents: null,
  };

  const api = window.CabinUI.client({
    base: "/api/v1",
    timeoutMs: 10000,
    token: () => state.token,
    text: (code, status) => code === "timeout" ? "The ground took too long to answer." : code === "network" ? "The ground could not be reached." : "The ground answered with error " + status + ".",
    onUnauthorized: () => { state.token = ""; session.removeItem(TOKEN_KEY); show(); },
    onResult: (reached, err) => { if (reached) { state.lastOk = Date.now(); if (!err) state.lastError = null; } else state.lastError = err; },
  });

  const toast = (m, k) => window.CabinUI.toast(m, k);

  function ago(iso) {
    const t = Date.parse(iso || "");
    if (!Number.isFinite(t)) return "never";
    const s = (Date.now() - t) / 1000;
    return s < 5 ? "just now" : duration(s) + " ago";
  }

  // ---------------------------------------------------------------------------
  // What a device report says, with the fields of today's ground and the
  // richer sync-admin report both understood.
  // ---------------------------------------------------------------------------

  function view(d) {
    const st = d.state || {};
    const seen = Date.parse(d.last_seen || "");
    const oldestMs = d.oldest_pending_ms || st.oldest_pending_ms || 0;
    const skewMs = typeof d.skew_ms === "number" ? d.skew_ms
      : st.clock && Number.isFinite(seen) ? st.clock - seen : null;
    return {
      id: d.id,
      name: d.name || "(unnamed)",
      online: !!d.online,
      revoked: !!d.revoked,
      flights: Array.isArray(d.flights) ? d.flights : [],
      pending: Number(d.pending ?? st.outbox) || 0,
      oldest: oldestMs ? (Date.now() - oldestMs) / 1000 : null,
      lag: Number(d.cursor_lag) || 0,
      lastSync: d.last_sync || null,
      lastSeen: d.last_seen || null,
      skewMs,
      version: d.version || st.app_version || "",
      deadLetters: Number(d.dead_letters ?? st.dead_letters) || 0,
      lastError: d.last_error || st.last_error || "",
      history: Array.isArray(d.history) ? d.history : null,
    };
  }

  // alertsFor: what a sync admin should look at before the crew notice.
  function alertsFor(v) {
    if (v.revoked) return [];
    const out = [];
    if (!v.online && v.pending > 0) out.push({ level: "bad", text: v.pending + " change" + (v.pending === 1 ? "" : "s") + " waiting on " + v.name + ", offline since " + ago(v.lastSeen) });
    if (v.deadLetters > 0) out.push({ level: "bad", text: v.name + ": " + v.deadLetters + " change" + (v.deadLetters === 1 ? "" : "s") + " refused by the ground" });
    if (v.online && v.lag > 0) out.push({ level: "warn", text: v.name + " is " + v.lag + " change" + (v.lag === 1 ? "" : "s") + " behind" });
    if (v.skewMs !== null && Math.abs(v.skewMs) > SKEW_ALERT_MS) out.push({ level: "warn", text: v.name + "'s clock is " + duration(v.skewMs / 1000) + (v.skewMs > 0 ? " ahead" : " behind") });
    if (v.flights.length && (!v.lastSync || Date.now() - Date.parse(v.lastSync) > STALE_SYNC_MS)) out.push({ level: "warn", text: v.name + " has not completed a sync " + (v.lastSync ? "since " + ago(v.lastSync) : "yet") });
    if (v.lastError) out.push({ level: "warn", text: v.name + ": " + v.lastError });
    return out;
  }

  // ---------------------------------------------------------------------------
  // Loading and drawing
  // ---------------------------------------------------------------------------

  async function load() {
    try {
      const d = await api("GET", "/devices");
      state.devices = d && Array.isArray(d.devices) ? d.devices : [];
      const now = Date.now();
      for (const raw of state.devices) {
        const v = view(raw);
        const s = state.samples[v.id] || (state.samples[v.id] = []);
        s.push({ t: now, online: v.online, pending: v.pending, lag: v.lag });
        if (s.length > SAMPLE_CAP) s.splice(0, s.length - SAMPLE_CAP);
      }
    } catch (_) {
      // shown by the connection indicator
    }
    render();
  }

  const loop = window.CabinUI.makeLoop(load, POLL_MS, () => !!state.token);

  function renderConn() {
    const el = $("#conn");
    if (state.lastError && (!state.lastOk || Date.now() - state.lastOk > 2 * POLL_MS)) {
      el.className = "conn conn-bad";
      el.textContent = "Ground not reachable · retrying";
    } else if (state.lastOk) {
      el.className = "conn conn-ok";
      const s = Math.round((Date.now() - state.lastOk) / 1000);
      el.textContent = "Live · updated " + (s < 2 ? "now" : s + " s ago");
    }
  }

  function render() {
    renderConn();
    if (state.devices === null) { fill($("#devices"), h("p", { class: "muted" }, "Loading…")); return; }
    const sig = JSON.stringify(state.devices) + "|" + state.filter + "|" + state.selected + "|" + Math.floor(Date.now() / 10000);
    if (sig === state.sig) return;
    state.sig = sig;
    const all = state.devices.map(view);
    const alerts = all.flatMap(alertsFor).sort((a, b) => (a.level === "bad" ? 0 : 1) - (b.level === "bad" ? 0 : 1));
    fill($("#alerts"), alerts.length
      ? h("ul", { class: "alert-list" }, alerts.map((a) => h("li", { class: "alert alert-" + a.level }, a.text)))
      : h("p", { class: "alert alert-ok" }, "No alerts: every device is in sync or has nothing to send."));

    const online = all.filter((v) => v.online).length;
    $("#fleet-summary").textContent = all.length + (all.length === 1 ? " device" : " devices") + " · " + online + " online · " + all.filter((v) => v.pending > 0).length + " with changes waiting";
    const shown = all.filter((v) => state.filter === "online" ? v.online : state.filter === "offline" ? !v.online : state.filter === "problem" ? alertsFor(v).length > 0 : true);
    if (!shown.length) {
      fill($("#devices"), h("p", { class: "muted" }, all.length ? "No device matches this filter." : "No devices enrolled yet: use “Enrol a tablet”."));
    } else {
      fill($("#devices"), h("table", { class: "table devices" },
        h("thead", null, h("tr", null, ["", "Device", "Flight", "Outbox", "Oldest waiting", "Cursor lag", "Last sync", "Skew", "Version"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", null, shown.map((v) => h("tr", {
          class: (v.id === state.selected ? "selected " : "") + (alertsFor(v).length ? "row-warn" : ""),
          dataset: { id: v.id }, tabindex: "0",
          onclick: () => select(v.id),
          onkeydown: (ev) => { if (ev.key === "Enter") select(v.id); },
        },
        h("td", null, h("span", { class: "dot " + (v.revoked ? "dot-off" : v.online ? "dot-on" : "dot-off"), "aria-hidden": "true" }),
          h("span", { class: "state-text" }, v.revoked ? "revoked" : v.online ? "online" : "offline")),
        h("td", null, h("strong", null, v.name), h("div", { class: "mono small muted" }, v.id.slice(0, 8))),
        h("td", null, v.flights.length ? v.flights.join(", ") : h("span", { class: "muted" }, "—")),
        h("td", { class: "num" + (v.pending ? " text-warn" : "") }, String(v.pending)),
        h("td", { class: "num" }, v.oldest === null ? "—" : duration(v.oldest)),
        h("td", { class: "num" + (v.lag ? " text-warn" : "") }, String(v.lag)),
        h("td", null, ago(v.lastSync)),
        h("td", { class: "num" }, v.skewMs === null ? "—" : Math.abs(v.skewMs) < 1000 ? "0s" : (v.skewMs > 0 ? "+" : "−") + duration(v.skewMs / 1000)),
        h("td", null, v.version || "—"))))));
    }
    renderDetail(all.find((v) => v.id === state.selected) || null);
  }

  function select(id) {
    state.selected = state.selected === id ? null : id;
    state.sig = "";
    render();
  }

  function renderDetail(v) {
    const box = $("#device-detail");
    box.hidden = !v;
    if (!v) return;
    const act = (label, path, confirmText, body, danger) => h("button", {
      class: "btn" + (danger ? " btn-danger" : ""), type: "button", dataset: { action: path },
      onclick: async () => {
        if (confirmText && !window.confirm(confirmText)) return;
        try {
          await api("POST", "/devices/" + encodeURIComponent(v.id) + "/" + path, body ? body() : undefined);
          toast(label + ": done", "ok");
          state.sig = "";
          loop();
        } catch (e) {
          toast(e.status === 404 || e.status === 405 ? label + " is not available on this ground yet." : e.message, "error");
        }
      },
    }, label);
    fill(box,
      h("div", { class: "page-head" }, h("h3", null, v.name), h("span", { class: "mono small muted" }, v.id)),
      h("dl", { class: "facts" },
        [["State", v.revoked ? "revoked" : v.online ? "online" : "offline"], ["Last seen", ago(v.lastSeen)], ["Flights", v.flights.join(", ") || "—"],
          ["Dead letters", String(v.deadLetters)], ["Last error", v.lastError || "—"]].map(([k, val]) => h("div", null, h("dt", null, k), h("dd", null, val)))),
      h("h3", null, "Sync history"),
      h("div", { class: "chart" }, historyChart(v)),
      h("div", { class: "form-actions actions-left" },
        act("Resync", "resync", "Make " + v.name + " pull its flights again? Its unsent changes are kept."),
        act("Rename", "rename", null, () => ({ name: window.prompt("New name for " + v.name, v.name) || v.name })),
        act("Bind to flight", "bind", null, () => ({ flight_id: window.prompt("Flight id for " + v.name + " (e.g. KL0641-2026-11-23)", v.flights[0] || "") || "" })),
        act("Decommission", "decommission", "Decommission " + v.name + "? It will have to be enrolled again.", null, true),
        v.revoked ? null : act("Revoke", "revoke", "Revoke " + v.name + "'s token? It is disconnected at once.", null, true)));
  }

  // historyChart: the ground's 24 h history when it reports one, else what
  // this page has seen since it opened. Online time is a band, the outbox a
  // line.
  function historyChart(v) {
    const pts = (v.history || []).map((x) => ({ t: Date.parse(x.at || x.t || ""), online: !!x.online, pending: Number(x.pending ?? x.outbox) || 0, lag: Number(x.cursor_lag) || 0 }))
      .filter((x) => Number.isFinite(x.t));
    const data = pts.length ? pts : (state.samples[v.id] || []);
    const W = 720, H = 150, pad = { l: 34, r: 8, t: 8, b: 22 };
    if (data.length < 2) return h("p", { class: "muted" }, "Collecting samples…");
    const t0 = pts.length ? Date.now() - 24 * 3600000 : data[0].t;
    const t1 = Date.now();
    const maxV = Math.max(1, ...data.map((d) => Math.max(d.pending, d.lag)));
    const x = (t) => pad.l + (W - pad.l - pad.r) * (t - t0) / Math.max(1, t1 - t0);
    const y = (n) => pad.t + (H - pad.t - pad.b) * (1 - n / maxV);
    const bands = [];
    for (let i = 0; i < data.length; i++) {
      const a = data[i];
      const b = data[i + 1] || { t: t1 };
      bands.push(svg("rect", { x: x(a.t), y: pad.t, width: Math.max(0.5, x(b.t) - x(a.t)), height: H - pad.t - pad.b, class: a.online ? "band-on" : "band-off" }));
    }
    const line = (key, cls) => svg("polyline", { class: cls, points: data.map((d) => x(d.t).toFixed(1) + "," + y(d[key]).toFixed(1)).join(" ") });
    const span = (t1 - t0) / 1000;
    return svg("svg", { viewBox: "0 0 " + W + " " + H, role: "img", class: "history", "aria-label": "Online " + Math.round(100 * data.filter((d) => d.online).length / data.length) + "% of the time; outbox peak " + Math.max(...data.map((d) => d.pending)) },
      bands,
      svg("line", { x1: pad.l, x2: W - pad.r, y1: y(0), y2: y(0), class: "grid" }),
      svg("text", { x: pad.l - 4, y: y(maxV) + 4, class: "axis", "text-anchor": "end" }, String(maxV)),
      svg("text", { x: pad.l - 4, y: y(0) + 4, class: "axis", "text-anchor": "end" }, "0"),
      line("pending", "line-pending"),
      line("lag", "line-lag"),
      svg("text", { x: pad.l, y: H - 6, class: "axis" }, pts.length ? "24 h ago" : duration(span) + " ago"),
      svg("text", { x: W - pad.r, y: H - 6, class: "axis", "text-anchor": "end" }, "now · band: online (green) / offline (grey) · line: outbox, dashed: cursor lag"));
  }

  // ---------------------------------------------------------------------------
  // Enrolment: the code as text and as a QR code for the tablet's camera.
  // ---------------------------------------------------------------------------

  function openEnrol() {
    const dlg = $("#dialog");
    const name = h("input", { type: "text", id: "enrol-name", required: true, maxlength: "80", placeholder: "e.g. PH-BVA purser tablet", autocomplete: "off" });
    const out = h("div", { id: "enrol-result" });
    const submit = h("button", { class: "btn btn-primary", type: "submit" }, "Enrol");
    const form = h("form", { class: "dialog-form" },
      h("h2", null, "Enrol a tablet"),
      h("label", null, "Device name", name),
      out,
      h("div", { class: "form-actions" }, h("button", { class: "btn", type: "button", onclick: () => dlg.close() }, "Close"), submit));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const n = name.value.trim();
      if (!n) { name.focus(); return; }
      submit.disabled = true;
      try {
        const d = await api("POST", "/devices", { name: n });
        // Issue 4 turns the token into a short-lived enrolment code.
        const code = d.enrolment_code || d.token || "";
        const link = "cabincare://enrol?ground=" + encodeURIComponent(location.origin) + "&id=" + encodeURIComponent(d.id) + "&code=" + encodeURIComponent(code);
        const img = h("img", { id: "enrol-qr", class: "qr", alt: "QR code of the enrolment code", width: "240", height: "240" });
        fill(out, h("div", { class: "callout callout-ok" },
          h("p", null, h("strong", null, d.name || n), " is enrolled. Scan the code with the tablet, or type it in. It is shown only once",
            d.expires_at ? " and expires " + new Date(d.expires_at).toLocaleString() : "", "."),
          h("p", null, "Device id ", h("code", { id: "enrol-id", class: "mono" }, d.id)),
          h("p", null, "Code ", h("code", { id: "enrol-code", class: "mono enrol-code" }, code)),
          img));
        submit.hidden = true;
        name.disabled = true;
        const png = await api("POST", "/qr", { text: link });
        if (png instanceof Blob) {
          img.src = URL.createObjectURL(png);
          dlg.addEventListener("close", () => URL.revokeObjectURL(img.src), { once: true });
        }
        state.sig = "";
        loop();
      } catch (e) {
        toast(e.message, "error");
      } finally {
        submit.disabled = false;
      }
    });
    fill(dlg, form);
    dlg.showModal();
    name.focus();
  }

  // ---------------------------------------------------------------------------
  // Start
  // ---------------------------------------------------------------------------

  function show() {
    $("#signin").hidden = !!state.token;
    $("#app").hidden = !state.token;
    if (state.token) loop();
    // Device-state and alert events (GET /api/v1/events) refresh at once;
    // the 2 s poll stays as the fallback.
    if (state.token && !state.stopEvents) {
      state.stopEvents = window.CabinUI.events({
        url: "/api/v1/events",
        token: () => state.token,
        onEvent: (type) => { if (type !== "enquiry") loop(); },
      });
    }
  }

  function init() {
    const frag = location.hash.replace(/^#/, "");
    if (frag.includes("token=")) {
      const tok = new URLSearchParams(frag).get("token");
      history.replaceState(null, "", location.pathname + location.search);
      if (tok) { state.token = tok; session.setItem(TOKEN_KEY, tok); }
    }
    $("#enrol-btn").addEventListener("click", openEnrol);
    $("#fleet-filter").addEventListener("change", (ev) => { state.filter = ev.target.value; state.sig = ""; render(); });
    setInterval(renderConn, 1000);
    show();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();

  window.CabinFleet = Object.freeze({ state, refresh: () => loop() });
})();
