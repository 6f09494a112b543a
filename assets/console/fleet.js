// CabinCare fleet dashboard (ground server, sync admins).
//
// Every device at a glance with the ground's alerts on top (GET
// /api/v1/alerts), a device's sync history as a chart, its binding to
// aircraft and flights, and the lifecycle actions. Built on GET
// /api/v1/devices, refreshed at once by the device and alert events of GET
// /api/v1/events and polled as a fallback. Plain ES2020, DOM nodes only (never innerHTML). The sign-in is the
// console's (same origin, same session storage). Global: window.CabinFleet.
"use strict";

(function () {
  const { $, h, svg, fill, duration } = window.CabinUI;
  const TOKEN_KEY = "cabincare.console.token"; // shared with the console
  const POLL_MS = 2000;
  const SAMPLE_CAP = 24 * 3600 / 2; // a day of samples at the poll rate

  const session = window.CabinUI.store("sessionStorage");
  const state = {
    token: session.getItem(TOKEN_KEY) || "",
    devices: null,
    alerts: null, // GET /alerts: the ground's health rules, critical first
    forbidden: false, // signed in, but not an admin
    sig: "",
    selected: null,
    filter: "",
    samples: {}, // device id → [{t, online, pending, lag}] seen by this page
    history: {}, // device id → the ground's 24 h samples (GET /devices/{id}?history=24h)
    historyAt: 0,
    lastOk: 0,
    lastError: null,
    stopEvents: null,
  };

  const api = window.CabinUI.client({
    base: "/api/v1",
    timeoutMs: 10000,
    token: () => state.token,
    text: (code, status) => code === "timeout" ? "The ground took too long to answer." : code === "network" ? "The ground could not be reached." : "The ground answered with error " + status + ".",
    onUnauthorized: () => { state.token = ""; session.removeItem(TOKEN_KEY); stopEvents(); show(); },
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
    const oldestAt = Date.parse(d.oldest_pending || "");
    const skewMs = typeof d.clock_skew_ms === "number" ? d.clock_skew_ms
      : st.clock && Number.isFinite(seen) ? st.clock - seen : null;
    const b = d.binding || {};
    return {
      id: d.id,
      name: d.name || "(unnamed)",
      online: !!d.online,
      revoked: !!d.revoked,
      flights: Array.isArray(d.flights) ? d.flights : [],
      binding: { aircraft: Array.isArray(b.aircraft) ? b.aircraft : [], flights: Array.isArray(b.flights) ? b.flights : [] },
      pending: Number(d.pending ?? st.outbox) || 0,
      oldest: Number.isFinite(oldestAt) ? (Date.now() - oldestAt) / 1000 : null,
      lag: Number(d.cursor_lag) || 0,
      lastSync: d.last_sync || null,
      lastSeen: d.last_seen || null,
      skewMs,
      version: d.app_version || st.app_version || "",
      deadLetters: Number(d.dead_letters ?? st.dead_letters) || 0,
      lastError: d.last_error || st.last_error || "",
      history: Array.isArray(d.history) ? d.history : null,
      alerts: Array.isArray(d.alerts) ? d.alerts : [],
      resyncPending: !!d.resync_pending,
      decommissioning: !!d.decommissioning,
    };
  }

  // bindingText: what a device may serve, in words.
  function bindingText(b) {
    const parts = [];
    if (b.aircraft.length) parts.push("aircraft " + b.aircraft.join(", "));
    if (b.flights.length) parts.push("flights " + b.flights.join(", "));
    return parts.length ? parts.join(" · ") : "any flight";
  }

  // list splits what an admin typed ("PH-BVA, PH-BVB") into names.
  const list = (s) => String(s || "").split(/[\s,;]+/).map((x) => x.trim()).filter(Boolean);

  // ---------------------------------------------------------------------------
  // Loading and drawing
  // ---------------------------------------------------------------------------

  async function load() {
    try {
      const [d, a] = await Promise.all([api("GET", "/devices"), api("GET", "/alerts")]);
      state.forbidden = false;
      state.alerts = a && Array.isArray(a.alerts) ? a.alerts : [];
      state.devices = d && Array.isArray(d.devices) ? d.devices : [];
      startEvents();
      if (state.selected && Date.now() - state.historyAt > 60000) loadHistory(state.selected);
      const now = Date.now();
      for (const raw of state.devices) {
        const v = view(raw);
        const s = state.samples[v.id] || (state.samples[v.id] = []);
        s.push({ t: now, online: v.online, pending: v.pending, lag: v.lag });
        if (s.length > SAMPLE_CAP) s.splice(0, s.length - SAMPLE_CAP);
      }
    } catch (e) {
      // 403: an agent or supervisor; anything else is shown by the
      // connection indicator.
      if (e && e.status === 403) state.forbidden = true;
    }
    show();
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
    const sig = JSON.stringify(state.devices) + "|" + JSON.stringify(state.alerts) + "|" + state.filter + "|" + state.selected + "|" + Math.floor(Date.now() / 10000);
    if (sig === state.sig) return;
    state.sig = sig;
    const all = state.devices.map(view);
    const alerts = state.alerts || [];
    fill($("#alerts"), alerts.length
      ? h("ul", { class: "alert-list" }, alerts.map((a) => h("li", { class: "alert alert-" + (a.severity === "critical" ? "bad" : "warn"), dataset: { rule: a.rule || "" } },
        a.device_name ? h("strong", null, a.device_name + ": ") : null, a.reason || a.rule, a.since ? " (since " + ago(a.since) + ")" : "")))
      : h("p", { class: "alert alert-ok" }, "No alerts: every device is in sync or has nothing to send."));

    const online = all.filter((v) => v.online).length;
    $("#fleet-summary").textContent = all.length + (all.length === 1 ? " device" : " devices") + " · " + online + " online · " + all.filter((v) => v.pending > 0).length + " with changes waiting";
    const shown = all.filter((v) => state.filter === "online" ? v.online : state.filter === "offline" ? !v.online : state.filter === "problem" ? v.alerts.length > 0 : true);
    if (!shown.length) {
      fill($("#devices"), h("p", { class: "muted" }, all.length ? "No device matches this filter." : "No devices enrolled yet: use “Enrol a tablet”."));
    } else {
      fill($("#devices"), h("table", { class: "table devices" },
        h("thead", null, h("tr", null, ["", "Device", "Flight", "Bound to", "Outbox", "Oldest waiting", "Cursor lag", "Last sync", "Skew", "Version"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", null, shown.map((v) => h("tr", {
          class: (v.id === state.selected ? "selected " : "") + (v.alerts.length ? "row-warn" : ""),
          dataset: { id: v.id }, tabindex: "0",
          onclick: () => select(v.id),
          onkeydown: (ev) => { if (ev.key === "Enter") select(v.id); },
        },
        h("td", null, h("span", { class: "dot " + (v.revoked ? "dot-off" : v.online ? "dot-on" : "dot-off"), "aria-hidden": "true" }),
          h("span", { class: "state-text" }, v.revoked ? "revoked" : v.online ? "online" : "offline")),
        h("td", null, h("strong", null, v.name), h("div", { class: "mono small muted" }, v.id.slice(0, 8))),
        h("td", null, v.flights.length ? v.flights.join(", ") : h("span", { class: "muted" }, "—")),
        h("td", { class: "binding" + (v.binding.aircraft.length || v.binding.flights.length ? "" : " muted") }, bindingText(v.binding)),
        h("td", { class: "num" + (v.pending ? " text-warn" : "") }, String(v.pending)),
        h("td", { class: "num" }, v.oldest === null ? "—" : duration(v.oldest)),
        h("td", { class: "num" + (v.lag ? " text-warn" : "") }, String(v.lag)),
        h("td", null, ago(v.lastSync)),
        h("td", { class: "num" }, v.skewMs === null ? "—" : Math.abs(v.skewMs) < 1000 ? "0s" : (v.skewMs > 0 ? "+" : "−") + duration(v.skewMs / 1000)),
        h("td", null, v.version || "—"))))));
    }
    const sel = all.find((v) => v.id === state.selected) || null;
    renderDetail(sel && !sel.history && state.history[sel.id] ? { ...sel, history: state.history[sel.id] } : sel);
  }

  function select(id) {
    state.selected = state.selected === id ? null : id;
    state.sig = "";
    render();
    if (state.selected) loadHistory(state.selected);
  }

  // loadHistory: the ground's per-minute samples of the last 24 h for the
  // selected device, refreshed once a minute while it stays selected.
  async function loadHistory(id) {
    state.historyAt = Date.now();
    try {
      const d = await api("GET", "/devices/" + encodeURIComponent(id) + "?history=24h");
      state.history[id] = d && Array.isArray(d.history) ? d.history : [];
      state.sig = "";
      render();
    } catch (_) {
      // the page's own samples stand in
    }
  }

  function renderDetail(v) {
    const box = $("#device-detail");
    box.hidden = !v;
    if (!v) return;
    const act = (label, path, confirmText, body, danger) => h("button", {
      class: "btn" + (danger ? " btn-danger" : ""), type: "button", dataset: { action: path },
      onclick: async () => {
        if (confirmText && !window.confirm(confirmText)) return;
        const b = body ? body() : undefined;
        if (b === null) return; // cancelled
        try {
          const res = await api("POST", "/devices/" + encodeURIComponent(v.id) + "/" + path, b);
          toast(path === "decommission" && res && res.decommissioned === false
            ? v.name + " will be decommissioned once its outbox is empty." : label + ": done", "ok");
          if (path === "decommission" && res && res.decommissioned) state.selected = null;
          state.sig = "";
          loop();
        } catch (e) {
          toast(e.message, "error");
        }
      },
    }, label);
    const flags = [v.resyncPending ? "resync pending" : "", v.decommissioning ? "decommissioning" : ""].filter(Boolean).join(", ");
    fill(box,
      h("div", { class: "page-head" }, h("h3", null, v.name), h("span", { class: "mono small muted" }, v.id)),
      h("dl", { class: "facts" },
        [["State", (v.revoked ? "revoked" : v.online ? "online" : "offline") + (flags ? " · " + flags : "")], ["Last seen", ago(v.lastSeen)], ["Flights", v.flights.join(", ") || "—"],
          ["Bound to", bindingText(v.binding)],
          ["Dead letters", String(v.deadLetters)], ["Last error", v.lastError || "—"]].map(([k, val]) => h("div", null, h("dt", null, k), h("dd", { dataset: { fact: k } }, val)))),
      h("h3", null, "Sync history"),
      h("div", { class: "chart" }, historyChart(v)),
      h("div", { class: "form-actions actions-left" },
        v.revoked ? null : act("Resync", "resync", "Make " + v.name + " pull its flights again? Its unsent changes are kept."),
        act("Rename", "rename", null, () => { const n = window.prompt("New name for " + v.name, v.name); return n && n.trim() ? { name: n.trim() } : null; }),
        h("button", { class: "btn", type: "button", dataset: { action: "bind" }, onclick: () => openBind(v) }, "Bind to flight"),
        v.revoked ? null : act("Decommission", "decommission", "Decommission " + v.name + "? It will have to be enrolled again.", null, true),
        v.revoked ? null : act("Revoke", "revoke", "Revoke " + v.name + "'s token? It is disconnected at once.", null, true)));
  }

  // openBind: which aircraft and flights a device may serve (PUT
  // /devices/{id}/flights); both empty is any flight. The ground closes the
  // device's session so the binding applies at once.
  function openBind(v) {
    const dlg = $("#dialog");
    const aircraft = h("input", { type: "text", id: "bind-aircraft", value: v.binding.aircraft.join(", "), placeholder: "e.g. PH-BVA", autocomplete: "off", spellcheck: "false" });
    const flights = h("input", { type: "text", id: "bind-flights", value: v.binding.flights.join(", "), placeholder: "e.g. KL0641-2026-11-23", autocomplete: "off", spellcheck: "false" });
    const error = h("p", { class: "form-error", id: "bind-error", role: "alert", hidden: true });
    const put = async (body) => {
      error.hidden = true;
      try {
        await api("PUT", "/devices/" + encodeURIComponent(v.id) + "/flights", body);
        toast(v.name + " may now serve " + bindingText({ aircraft: body.aircraft, flights: body.flights }) + ".", "ok");
        dlg.close();
        state.sig = "";
        loop();
      } catch (e) {
        error.textContent = e.status === 404 ? "Unknown flight: " + e.message : e.message;
        error.hidden = false;
      }
    };
    const form = h("form", { class: "dialog-form" },
      h("h2", null, "Bind " + v.name),
      h("p", { class: "muted" }, "The tablet is sent only these aircraft's flights and the flights listed. Leave both empty for any flight."),
      h("label", null, "Aircraft registrations (comma-separated)", aircraft),
      h("label", null, "Flights (comma-separated)", flights),
      error,
      h("div", { class: "form-actions" },
        h("button", { class: "btn", type: "button", onclick: () => dlg.close() }, "Cancel"),
        h("button", { class: "btn", type: "button", id: "unbind-btn", onclick: () => put({ aircraft: [], flights: [] }) }, "Unbind (any flight)"),
        h("button", { class: "btn btn-primary", type: "submit", id: "bind-btn" }, "Bind")));
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      put({ aircraft: list(aircraft.value), flights: list(flights.value) });
    });
    fill(dlg, form);
    dlg.showModal();
    aircraft.focus();
  }

  // historyChart: the ground's per-minute samples of the last 24 h (once it
  // has two), else what this page has seen since it opened. Online time is a band, the outbox a
  // line.
  function historyChart(v) {
    const pts = (v.history || []).map((x) => ({ t: Date.parse(x.at || x.t || ""), online: !!x.online, pending: Number(x.pending ?? x.outbox) || 0, lag: Number(x.cursor_lag) || 0 }))
      .filter((x) => Number.isFinite(x.t));
    const ground = pts.length >= 2; // one sample a minute: a new device has too few
    const data = ground ? pts : (state.samples[v.id] || []);
    const W = 720, H = 150, pad = { l: 34, r: 8, t: 8, b: 22 };
    if (data.length < 2) return h("p", { class: "muted" }, "Collecting samples…");
    const t0 = data[0].t;
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
      svg("text", { x: pad.l, y: H - 6, class: "axis" }, duration(span) + " ago" + (ground ? " (ground's samples)" : "")),
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
    const denied = !!state.token && state.forbidden;
    $("#signin").hidden = !!state.token && !denied;
    $("#app").hidden = !state.token || denied;
    $("#signin-text").textContent = denied
      ? "The fleet dashboard is for admins: this account may not see the devices."
      : "The fleet dashboard is for sync admins. Sign in on the care console first.";
    if (denied) { stopEvents(); return; }
    render();
  }

  function stopEvents() {
    if (state.stopEvents) { state.stopEvents(); state.stopEvents = null; }
  }

  // startEvents: device and alert events (GET /api/v1/events, admins only,
  // so opened once the devices have loaded) refresh at once; the 2 s poll
  // stays as the fallback.
  function startEvents() {
    if (state.stopEvents || !state.token || state.forbidden) return;
    state.stopEvents = window.CabinUI.events({
      url: "/api/v1/events?types=device,alert",
      token: () => state.token,
      onEvent: () => loop(),
    });
  }

  function start() {
    show();
    if (state.token) loop();
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
    start();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();

  window.CabinFleet = Object.freeze({ state, refresh: () => loop() });
})();
