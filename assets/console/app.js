// CabinCare agent console (ground server).
//
// Plain ES2020, no build step, no network access other than the ground API
// under /api/v1. Every API call carries "Authorization: Bearer <token>"; the
// token comes from the URL fragment (#token=...) once, or from the sign-in
// form, and is kept in sessionStorage only. Everything inserted into the page
// is built with DOM nodes and textContent (never innerHTML), so API data can
// never become markup. The only global is window.CabinConsole.
"use strict";

(function () {
  // ---------------------------------------------------------------------------
  // Settings and labels
  // ---------------------------------------------------------------------------

  const API = "/api/v1";
  const TOKEN_KEY = "cabincare.console.token";
  const FILTER_KEY = "cabincare.console.filters";
  const POLL_MS = 3000;
  const FLIGHTS_POLL_MS = 30000;
  const REQUEST_TIMEOUT_MS = 15000;

  const STATUSES = ["new", "assigned", "delivered", "acknowledged", "resolved", "not_resolved", "passenger_not_on_board", "escalated", "closed"];
  const OUTCOME_STATUSES = new Set(["resolved", "not_resolved", "passenger_not_on_board", "escalated"]);
  const ONBOARD_STATUSES = new Set(["assigned", "delivered", "acknowledged"]);
  const STATUS_RANK = { new: 0, assigned: 1, delivered: 2, acknowledged: 3, resolved: 4, not_resolved: 4, passenger_not_on_board: 4, escalated: 4, closed: 5 };

  const L = {
    status: {
      new: "New",
      assigned: "Assigned",
      delivered: "Delivered",
      acknowledged: "Seen by crew",
      resolved: "Resolved",
      not_resolved: "Not resolved",
      passenger_not_on_board: "Not on board",
      escalated: "Escalated",
      closed: "Closed",
    },
    outcome: {
      resolved: "Resolved",
      not_resolved: "Not resolved",
      passenger_not_on_board: "Passenger not on board",
      escalated: "Escalated to ground",
    },
    kind: {
      create: "Received",
      assign: "Assigned",
      recall: "Recalled",
      note: "Note",
      ack: "Seen by crew",
      outcome: "Outcome",
      close: "Closed",
    },
    channel: {
      twitter: ["X", "X (Twitter)"],
      x: ["X", "X (Twitter)"],
      facebook: ["FB", "Facebook"],
      messenger: ["MSG", "Messenger"],
      instagram: ["IG", "Instagram"],
      whatsapp: ["WA", "WhatsApp"],
      wechat: ["WC", "WeChat"],
      youtube: ["YT", "YouTube"],
      reddit: ["RD", "Reddit"],
      snapchat: ["SC", "Snapchat"],
      email: ["@", "E-mail"],
    },
    languages: ["en", "nl", "fr", "de", "es", "it", "pt", "zh", "ja", "ko", "ar", "ru", "tr", "pl"],
  };

  // ---------------------------------------------------------------------------
  // DOM and formatting helpers
  // ---------------------------------------------------------------------------

  function $(sel, root) { return (root || document).querySelector(sel); }

  // h builds an element. props: class, text, on<event>, dataset, other attributes.
  // Children may be nodes, strings (inserted as text), arrays, or null/false (skipped).
  function h(tag, props, ...kids) {
    const el = document.createElement(tag);
    if (props) {
      for (const [k, v] of Object.entries(props)) {
        if (v === undefined || v === null || v === false) continue;
        if (k === "class") el.className = v;
        else if (k === "text") el.textContent = v;
        else if (k === "dataset") Object.assign(el.dataset, v);
        else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
        else if (v === true) el.setAttribute(k, "");
        else el.setAttribute(k, String(v));
      }
    }
    appendKids(el, kids);
    return el;
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

  function ts(iso) { return iso ? Date.parse(iso) : NaN; }

  function age(iso) {
    const t = ts(iso);
    if (!Number.isFinite(t)) return "";
    const s = Math.max(0, (Date.now() - t) / 1000);
    if (s < 60) return "now";
    const m = Math.floor(s / 60);
    if (m < 60) return m + "m";
    const hr = Math.floor(m / 60);
    if (hr < 48) return hr + "h" + (hr < 10 && m % 60 ? " " + String(m % 60).padStart(2, "0") + "m" : "");
    return Math.floor(hr / 24) + "d";
  }

  function agoLong(iso) {
    const a = age(iso);
    if (!a) return "never";
    return a === "now" ? "just now" : a + " ago";
  }

  function when(iso) {
    const t = ts(iso);
    if (!Number.isFinite(t)) return "";
    const d = new Date(t);
    const time = d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
    if (d.toDateString() === new Date().toDateString()) return time;
    return d.toLocaleDateString(undefined, { day: "numeric", month: "short" }) + " " + time;
  }

  function full(iso) {
    const t = ts(iso);
    return Number.isFinite(t) ? new Date(t).toLocaleString() + " (" + new Date(t).toISOString() + ")" : "";
  }

  function timeEl(iso, text) {
    return h("time", { datetime: iso || undefined, title: full(iso) || undefined }, text === undefined ? when(iso) : text);
  }

  function firstWords(text, max) {
    const s = String(text || "").replace(/\s+/g, " ").trim();
    if (s.length <= max) return s;
    const cut = s.slice(0, max);
    const sp = cut.lastIndexOf(" ");
    return (sp > max * 0.6 ? cut.slice(0, sp) : cut) + "…";
  }

  function channelBadge(ch) {
    const key = String(ch || "").toLowerCase();
    const known = L.channel[key];
    const short = known ? known[0] : (key.slice(0, 2).toUpperCase() || "?");
    const name = known ? known[1] : String(ch || "unknown channel");
    return h("span", { class: "channel channel-" + (known ? key : "other"), title: name, "aria-label": name }, short);
  }

  function channelName(ch) {
    const known = L.channel[String(ch || "").toLowerCase()];
    return known ? known[1] : String(ch || "");
  }

  function statusChip(status) {
    return h("span", { class: "chip chip-" + String(status || "unknown") }, L.status[status] || String(status || "?"));
  }

  function byName(by) {
    const s = String(by || "");
    if (!s) return "—";
    const i = s.indexOf(":");
    if (i > 0) {
      const kind = s.slice(0, i);
      const name = s.slice(i + 1);
      if (kind === "agent") return name + " (ground)";
      if (kind === "device" || kind === "crew") return name + " (crew)";
    }
    return s;
  }

  function flightLabel(f) {
    if (!f) return "";
    const route = f.origin || f.destination ? " · " + (f.origin || "?") + "→" + (f.destination || "?") : "";
    return (f.number || f.id) + " · " + (f.date || "") + route;
  }

  // ---------------------------------------------------------------------------
  // Storage (may be unavailable: private mode, policies)
  // ---------------------------------------------------------------------------

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
  const session = store("sessionStorage");
  const local = store("localStorage");

  // ---------------------------------------------------------------------------
  // State
  // ---------------------------------------------------------------------------

  const state = {
    token: null,
    tab: "enquiries",
    selectedId: null,
    filters: { status: "", flight_id: "" },
    enquiries: null,
    queueSig: "",
    queueError: null,
    detail: null,
    detailSig: "",
    assignDirty: false,
    flights: [],
    flightsSig: "",
    devices: null,
    devicesSig: "",
    lastOk: 0,
    lastError: null,
    busy: false,
  };

  try {
    const f = JSON.parse(local.getItem(FILTER_KEY) || "{}");
    if (typeof f.status === "string") state.filters.status = f.status;
    if (typeof f.flight_id === "string") state.filters.flight_id = f.flight_id;
  } catch (_) { /* ignore a bad saved value */ }

  // ---------------------------------------------------------------------------
  // API
  // ---------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(code, message, status) {
      super(message);
      this.code = code;
      this.status = status;
    }
  }

  async function api(method, path, body) {
    if (!state.token) throw new ApiError("unauthenticated", "Not signed in.", 401);
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), REQUEST_TIMEOUT_MS);
    const headers = { Accept: "application/json", Authorization: "Bearer " + state.token };
    const opts = { method, headers, signal: ctrl.signal, cache: "no-store" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    try {
      let res;
      try {
        res = await fetch(API + path, opts);
      } catch (e) {
        const err = e && e.name === "AbortError"
          ? new ApiError("timeout", "The server took too long to answer.", 0)
          : new ApiError("network", "The server could not be reached.", 0);
        state.lastError = err;
        throw err;
      }
      let data = null;
      try {
        const text = await res.text();
        data = text ? JSON.parse(text) : null;
      } catch (_) {
        data = null;
      }
      if (res.status === 401) {
        signOut("Your session is no longer valid. Please sign in again.");
        throw new ApiError("unauthenticated", "Not signed in.", 401);
      }
      if (!res.ok) {
        const e = data && data.error ? data.error : {};
        throw new ApiError(e.code || "http_" + res.status, e.message || "The server answered with error " + res.status + ".", res.status);
      }
      state.lastOk = Date.now();
      state.lastError = null;
      return data;
    } finally {
      clearTimeout(timer);
    }
  }

  function enquiryPath(id, tail) {
    return "/enquiries/" + encodeURIComponent(id) + (tail || "");
  }

  // ---------------------------------------------------------------------------
  // Toasts
  // ---------------------------------------------------------------------------

  function toast(message, kind) {
    kind = kind || "info";
    const box = $("#toasts");
    const el = h("div", { class: "toast toast-" + kind, role: kind === "error" ? "alert" : "status" }, message);
    el.addEventListener("click", () => el.remove());
    box.append(el);
    while (box.children.length > 4) box.firstElementChild.remove();
    setTimeout(() => el.remove(), kind === "error" ? 8000 : 3500);
  }

  // ---------------------------------------------------------------------------
  // Sign-in
  // ---------------------------------------------------------------------------

  function takeTokenFromFragment() {
    const frag = location.hash.replace(/^#/, "");
    if (!frag.includes("token=")) return;
    const params = new URLSearchParams(frag);
    const tok = params.get("token");
    // Remove the token from the address bar and from history in any case.
    history.replaceState(null, "", location.pathname + location.search + "#/enquiries");
    if (tok) session.setItem(TOKEN_KEY, tok);
  }

  function showSignIn(message) {
    $("#app").hidden = true;
    $("#signin").hidden = false;
    const err = $("#signin-error");
    err.textContent = message || "";
    err.hidden = !message;
    setTimeout(() => $("#signin-token").focus(), 0);
  }

  function showApp() {
    $("#signin").hidden = true;
    $("#app").hidden = false;
  }

  function signOut(message) {
    state.token = null;
    session.removeItem(TOKEN_KEY);
    const dlg = $("#dialog");
    if (dlg.open) dlg.close();
    state.enquiries = null;
    state.detail = null;
    state.devices = null;
    state.queueSig = state.detailSig = state.devicesSig = state.flightsSig = "";
    showSignIn(message);
  }

  async function signIn(token) {
    state.token = token;
    try {
      await api("GET", "/flights");
    } catch (e) {
      if (e.status === 401) return "This token was not accepted.";
      if (e.status === 403) { state.token = null; return "This token may not use the care console."; }
      // Server unreachable: keep the token, the app shows the connection state.
    }
    if (!state.token) return "This token was not accepted.";
    session.setItem(TOKEN_KEY, token);
    startApp();
    return "";
  }

  // ---------------------------------------------------------------------------
  // Polling
  // ---------------------------------------------------------------------------

  function makeLoop(fn, ms) {
    let timer = null;
    let running = false;
    let again = false;
    async function run() {
      clearTimeout(timer);
      timer = null;
      if (running) { again = true; return; }
      running = true;
      try {
        if (state.token && !document.hidden) await fn();
      } catch (_) {
        // each fn reports its own errors; a loop never dies
      }
      running = false;
      if (again) { again = false; run(); return; }
      timer = setTimeout(run, ms);
    }
    return run;
  }

  async function tick() {
    if (state.tab === "enquiries") await Promise.all([loadQueue(), loadDetail()]);
    else if (state.tab === "fleet") await loadDevices();
    else if (state.tab === "flights") await loadFlights();
    renderConn();
  }

  const mainLoop = makeLoop(tick, POLL_MS);
  const flightsLoop = makeLoop(loadFlights, FLIGHTS_POLL_MS);

  function renderConn() {
    const el = $("#conn");
    if (!el) return;
    if (state.lastError && (!state.lastOk || Date.now() - state.lastOk > 2 * POLL_MS)) {
      el.className = "conn conn-bad";
      el.textContent = "Server not reachable · retrying";
      el.title = state.lastError.message;
    } else if (state.lastOk) {
      el.className = "conn conn-ok";
      const s = Math.round((Date.now() - state.lastOk) / 1000);
      el.textContent = "Live · updated " + (s < 2 ? "now" : s + " s ago");
      el.title = "Last answer from the server: " + new Date(state.lastOk).toLocaleTimeString();
    } else {
      el.className = "conn";
      el.textContent = "Connecting…";
      el.title = "";
    }
  }

  // ---------------------------------------------------------------------------
  // Routing: #/enquiries, #/enquiries/<id>, #/flights, #/fleet
  // ---------------------------------------------------------------------------

  function parseRoute() {
    const parts = location.hash.replace(/^#\/?/, "").split("/");
    const tab = ["enquiries", "flights", "fleet"].includes(parts[0]) ? parts[0] : "enquiries";
    let id = null;
    if (tab === "enquiries" && parts[1]) {
      try { id = decodeURIComponent(parts.slice(1).join("/")); } catch (_) { id = null; }
    }
    return { tab, id };
  }

  function applyRoute() {
    const r = parseRoute();
    const tabChanged = r.tab !== state.tab;
    state.tab = r.tab;
    for (const a of document.querySelectorAll(".tabs a")) {
      const on = a.dataset.tab === r.tab;
      a.classList.toggle("active", on);
      if (on) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
    }
    for (const name of ["enquiries", "flights", "fleet"]) $("#tab-" + name).hidden = name !== r.tab;

    if (r.tab === "enquiries" && r.id !== state.selectedId) selectEnquiry(r.id);
    if (r.tab === "flights") renderFlightsTab();
    if (r.tab === "fleet") renderFleetTab();
    if (tabChanged || r.tab === "enquiries") mainLoop();
  }

  // ---------------------------------------------------------------------------
  // Queue (left column)
  // ---------------------------------------------------------------------------

  function populateFilterSelects() {
    const st = $("#filter-status");
    if (!st.options.length) {
      st.append(h("option", { value: "" }, "All statuses"));
      for (const s of STATUSES) st.append(h("option", { value: s }, L.status[s]));
    }
    st.value = state.filters.status;

    const fl = $("#filter-flight");
    fillFlightOptions(fl, state.filters.flight_id, "All flights");
  }

  // Rebuilds the options of a flight <select>, keeping `value` even if unknown.
  function fillFlightOptions(select, value, emptyLabel) {
    const opts = [h("option", { value: "" }, emptyLabel)];
    const known = new Set();
    for (const f of state.flights) {
      known.add(f.id);
      opts.push(h("option", { value: f.id }, flightLabel(f)));
    }
    if (value && !known.has(value)) opts.push(h("option", { value }, value));
    select.replaceChildren(...opts);
    select.value = value || "";
  }

  function onFilterChange() {
    state.filters.status = $("#filter-status").value;
    state.filters.flight_id = $("#filter-flight").value;
    local.setItem(FILTER_KEY, JSON.stringify(state.filters));
    state.enquiries = null;
    state.queueSig = "";
    renderQueue();
    mainLoop();
  }

  async function loadQueue() {
    const q = new URLSearchParams();
    if (state.filters.status) q.set("status", state.filters.status);
    if (state.filters.flight_id) q.set("flight_id", state.filters.flight_id);
    const qs = q.toString();
    const filterAtStart = JSON.stringify(state.filters);
    try {
      const d = await api("GET", "/enquiries" + (qs ? "?" + qs : ""));
      if (JSON.stringify(state.filters) !== filterAtStart) return; // filters changed meanwhile
      state.enquiries = d && Array.isArray(d.enquiries) ? d.enquiries : [];
      state.queueError = null;
    } catch (e) {
      state.queueError = e;
    }
    renderQueue();
  }

  function renderQueue() {
    const list = $("#queue-list");
    const sig = JSON.stringify(state.enquiries) + "|" + state.selectedId + "|" + Math.floor(Date.now() / 60000) + "|" + (state.queueError ? state.queueError.message : "");
    if (sig === state.queueSig) return;
    state.queueSig = sig;

    const count = $("#queue-count");
    if (state.enquiries === null) {
      count.textContent = "";
      fill(list, h("p", { class: "empty" }, state.queueError ? "Could not load the queue: " + state.queueError.message : "Loading…"));
      return;
    }
    const n = state.enquiries.length;
    count.textContent = n === 1 ? "1 enquiry" : n + " enquiries";
    if (state.queueError) count.append(" · ", h("span", { class: "text-bad" }, "not updated: " + state.queueError.message));
    if (!n) {
      fill(list, h("p", { class: "empty" }, "No enquiries match these filters."));
      return;
    }
    const hadFocus = list.contains(document.activeElement) ? document.activeElement.dataset.id : null;
    fill(list, state.enquiries.map(queueRow));
    if (hadFocus) {
      const again = list.querySelector('[data-id="' + CSS.escape(hadFocus) + '"]');
      if (again) again.focus();
    }
  }

  function queueRow(e) {
    const mins = (Date.now() - ts(e.received_at)) / 60000;
    let ageCls = "age";
    if (e.status === "new" && mins >= 60) ageCls += " age-late";
    else if (e.status === "new" && mins >= 30) ageCls += " age-warn";
    const selected = e.id === state.selectedId;
    return h("a", {
      class: "qrow" + (selected ? " selected" : ""),
      href: "#/enquiries/" + encodeURIComponent(e.id),
      "aria-current": selected ? "true" : undefined,
      dataset: { id: e.id },
    },
    channelBadge(e.channel),
    h("span", { class: "q-main" },
      h("span", { class: "q-line1" },
        h("span", { class: "q-handle" }, e.handle || e.customer || "(no handle)"),
        e.language ? h("span", { class: "lang" }, String(e.language).toUpperCase()) : null,
        e.flight_id ? h("span", { class: "q-flight" }, e.flight_id) : null),
      h("span", { class: "q-text", dir: "auto" }, firstWords(e.text, 90))),
    h("span", { class: "q-side" },
      h("span", { class: ageCls, title: full(e.received_at) }, age(e.received_at)),
      statusChip(e.status)));
  }

  function onQueueKey(ev) {
    if (ev.key !== "ArrowDown" && ev.key !== "ArrowUp") return;
    const rows = Array.from(document.querySelectorAll("#queue-list .qrow"));
    if (!rows.length) return;
    ev.preventDefault();
    let i = rows.indexOf(document.activeElement);
    if (i < 0) i = rows.findIndex((r) => r.classList.contains("selected"));
    i = ev.key === "ArrowDown" ? Math.min(rows.length - 1, i + 1) : Math.max(0, i - 1);
    rows[i].focus();
    location.hash = rows[i].getAttribute("href");
  }

  // ---------------------------------------------------------------------------
  // Enquiry view (right column)
  // ---------------------------------------------------------------------------

  function selectEnquiry(id) {
    state.selectedId = id;
    state.detail = id ? (state.enquiries || []).find((e) => e.id === id) || null : null;
    state.detailSig = "";
    state.assignDirty = false;
    state.queueSig = "";
    renderQueue();
    const view = $("#enquiry-view");
    if (!id) {
      fill(view, h("div", { class: "placeholder" },
        h("p", { class: "placeholder-title" }, "Select an enquiry"),
        h("p", { class: "muted" }, "Pick one from the queue on the left, or add one with “New enquiry”.")));
      return;
    }
    buildEnquiryView();
    updateEnquiryView(true);
    loadDetail();
  }

  async function loadDetail() {
    const id = state.selectedId;
    if (!id) return;
    try {
      const e = await api("GET", enquiryPath(id));
      if (state.selectedId !== id || !e) return;
      state.detail = e;
      updateEnquiryView(false);
    } catch (err) {
      if (err.status === 404 && state.selectedId === id) {
        toast("That enquiry no longer exists.", "error");
        location.hash = "#/enquiries";
      }
    }
  }

  function buildEnquiryView() {
    const form = buildAssignForm();
    const note = h("textarea", { id: "note-text", rows: "3", placeholder: "Add a note for the crew and colleagues…", dir: "auto" });
    const noteForm = h("form", { class: "note-form" },
      note,
      h("div", { class: "form-actions" }, h("button", { id: "note-btn", class: "btn", type: "submit" }, "Add note")));
    noteForm.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const text = note.value.trim();
      if (!text) { toast("Write a note first.", "info"); return; }
      if (await act("/notes", { text }, "Note added")) note.value = "";
    });

    fill($("#enquiry-view"),
      h("header", { class: "ev-header" },
        h("div", { id: "ev-title", class: "ev-title" }),
        h("div", { class: "ev-actions" },
          h("button", { id: "recall-btn", class: "btn", type: "button", onclick: openRecall, title: "Take the enquiry back from the aircraft" }, "Recall"),
          h("button", { id: "close-btn", class: "btn btn-primary", type: "button", onclick: openClose, title: "Close the loop with the customer" }, "Close"))),
      h("section", { class: "card" },
        h("h3", null, "Customer message"),
        h("div", { id: "ev-text" })),
      h("section", { class: "card" },
        h("h3", null, "Onboard progress"),
        h("ol", { id: "ev-stepper", class: "stepper" })),
      form,
      h("section", { class: "card" },
        h("h3", null, "Notes"),
        h("div", { id: "ev-notes" }),
        noteForm),
      h("section", { class: "card" },
        h("h3", null, "History"),
        h("div", { id: "ev-history", class: "table-wrap" })));
  }

  function buildAssignForm() {
    const flight = h("select", { id: "as-flight", required: true });
    const pax = h("input", { id: "as-pax", type: "text", autocomplete: "off", required: true, maxlength: "120" });
    const seat = h("input", { id: "as-seat", type: "text", autocomplete: "off", maxlength: "5", placeholder: "12A", class: "input-seat" });
    const instr = h("textarea", { id: "as-instr", rows: "3", dir: "auto", placeholder: "What should the crew do? e.g. Serve first and apologise for the cold meal on the outbound flight." });
    const submit = h("button", { id: "as-btn", class: "btn btn-primary", type: "submit" }, "Hand to crew");
    const form = h("form", { id: "assign-form", class: "card assign-form" },
      h("h3", null, "Hand to the crew"),
      h("div", { class: "grid-2" },
        h("label", null, "Flight", flight,
          h("span", { class: "hint" }, h("a", { href: "#/flights" }, "Add a flight"))),
        h("label", null, "Passenger name", pax)),
      h("div", { class: "grid-2" },
        h("label", null, "Seat", seat),
        h("span", null)),
      h("label", null, "Instructions for the crew", instr),
      h("div", { class: "form-actions" },
        h("span", { id: "as-dirty", class: "muted small", hidden: true }, "Unsaved changes"),
        submit));
    fillFlightOptions(flight, "", "Choose a flight…");
    form.addEventListener("input", () => {
      state.assignDirty = true;
      $("#as-dirty").hidden = false;
    });
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const body = {
        flight_id: flight.value,
        passenger_name: pax.value.trim(),
        seat: seat.value.trim().toUpperCase(),
        instructions: instr.value.trim(),
      };
      if (!body.flight_id) { toast("Choose the passenger's flight.", "error"); flight.focus(); return; }
      if (!body.passenger_name) { toast("Enter the passenger's name as on the booking.", "error"); pax.focus(); return; }
      if (await act("/assign", body, "Handed to the crew of " + body.flight_id)) {
        state.assignDirty = false;
        syncAssignForm(state.detail, true);
      }
    });
    return form;
  }

  // Puts the server's values into the assign form unless the agent is editing it.
  function syncAssignForm(e, force) {
    if (!e || (state.assignDirty && !force)) return;
    const set = (id, v) => {
      const el = $(id);
      if (el && el.value !== (v || "")) el.value = v || "";
    };
    const flight = $("#as-flight");
    if (flight) fillFlightOptions(flight, e.flight_id || "", "Choose a flight…");
    set("#as-pax", e.passenger_name || (e.status === "new" ? e.customer : ""));
    set("#as-seat", e.seat);
    set("#as-instr", e.instructions);
    $("#as-dirty").hidden = true;
  }

  function updateEnquiryView(force) {
    const e = state.detail;
    if (!$("#ev-title")) return;
    if (!e) {
      fill($("#ev-title"), h("p", { class: "muted" }, "Loading…"));
      updateButtons();
      return;
    }
    const sig = JSON.stringify(e) + "|" + Math.floor(Date.now() / 60000);
    if (!force && sig === state.detailSig) { updateButtons(); return; }
    state.detailSig = sig;

    fill($("#ev-title"),
      h("div", { class: "ev-who" },
        channelBadge(e.channel),
        h("h2", null, e.handle || e.customer || "(no handle)"),
        e.customer && e.handle ? h("span", { class: "muted" }, e.customer) : null,
        statusChip(e.status)),
      h("div", { class: "ev-meta muted" },
        channelName(e.channel),
        e.language ? [" · ", h("span", { class: "lang" }, String(e.language).toUpperCase())] : null,
        " · received ", timeEl(e.received_at), " (", agoLong(e.received_at), ")",
        e.external_id ? [" · ", h("span", { class: "mono", title: "ID on the channel" }, e.external_id)] : null));

    fill($("#ev-text"), h("blockquote", { class: "customer-text", dir: "auto", lang: e.language || undefined }, e.text || ""));

    renderStepper(e);
    syncAssignForm(e, false);

    const notes = Array.isArray(e.notes) ? e.notes : [];
    fill($("#ev-notes"), notes.length
      ? h("ul", { class: "notes" }, notes.map((n) => h("li", null,
        h("p", { class: "note-text", dir: "auto" }, n.text || ""),
        h("p", { class: "muted small" }, byName(n.by), " · ", timeEl(n.at)))))
      : h("p", { class: "muted" }, "No notes yet."));

    const hist = Array.isArray(e.history) ? e.history : [];
    fill($("#ev-history"), hist.length
      ? h("table", { class: "table" },
        h("thead", null, h("tr", null, ["When", "Action", "By", "Effect", "Operation"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", null, hist.map((x) => {
          const applied = !x.effect || x.effect === "applied";
          return h("tr", { class: applied ? "" : "row-dim" },
            h("td", { class: "nowrap" }, timeEl(x.at)),
            h("td", null, L.kind[x.kind] || String(x.kind || "")),
            h("td", null, byName(x.by)),
            h("td", null, applied ? "applied" : h("span", { class: "chip chip-effect" }, String(x.effect)), x.reason ? h("span", { class: "muted small" }, " " + x.reason) : null),
            h("td", { class: "mono small", title: x.op_id || "" }, String(x.op_id || "").slice(0, 8)));
        })))
      : h("p", { class: "muted" }, "No history yet."));

    updateButtons();
  }

  function closedAt(e) {
    const hist = Array.isArray(e.history) ? e.history : [];
    for (let i = hist.length - 1; i >= 0; i--) {
      const x = hist[i];
      if (x.kind === "close" && (!x.effect || x.effect === "applied")) return x.at;
    }
    return null;
  }

  function renderStepper(e) {
    const rank = STATUS_RANK[e.status] ?? 0;
    const closed = e.status === "closed";
    const reached = (r) => !closed && rank >= r;
    const steps = [
      {
        label: "Assigned",
        done: !!e.assigned_at && e.status !== "new",
        at: e.assigned_at,
        info: [e.flight_id, e.seat ? "seat " + e.seat : ""].filter(Boolean).join(" · "),
      },
      {
        label: "Delivered to aircraft",
        done: !!e.delivery || reached(2),
        at: e.delivery && e.delivery.at,
        info: e.delivery && e.delivery.device_id ? "tablet " + e.delivery.device_id : "",
      },
      {
        label: "Seen by crew",
        done: !!e.acknowledged || reached(3),
        at: e.acknowledged && e.acknowledged.at,
        info: e.acknowledged ? byName(e.acknowledged.by) : "",
      },
      {
        label: "Outcome",
        done: !!e.resolution || reached(4),
        at: e.resolution && e.resolution.at,
        info: e.resolution ? (L.outcome[e.resolution.outcome] || e.resolution.outcome) + (e.resolution.note ? ": “" + firstWords(e.resolution.note, 80) + "”" : "") : "",
        cls: e.resolution ? "outcome-" + e.resolution.outcome : "",
      },
      {
        label: "Closed",
        done: closed,
        at: closed ? closedAt(e) : null,
        info: "",
      },
    ];
    let currentSet = closed || e.status === "new";
    fill($("#ev-stepper"), steps.map((s) => {
      let cls = "step";
      let stateText;
      if (s.done) { cls += " done"; stateText = "done"; }
      else if (closed) { cls += " skipped"; stateText = "skipped"; }
      else if (!currentSet) { cls += " current"; stateText = "waiting"; currentSet = true; }
      else { stateText = "not yet"; }
      if (s.cls) cls += " " + s.cls;
      return h("li", { class: cls },
        h("span", { class: "step-dot", "aria-hidden": "true" }),
        h("span", { class: "step-body" },
          h("span", { class: "step-label" }, s.label, h("span", { class: "visually-hidden" }, " (" + stateText + ")")),
          s.at ? h("span", { class: "step-time" }, timeEl(s.at), " · ", agoLong(s.at)) : (s.done ? null : h("span", { class: "step-time muted" }, stateText === "waiting" ? "waiting…" : stateText === "skipped" ? "skipped" : "")),
          s.info ? h("span", { class: "step-info", dir: "auto" }, s.info) : null));
    }));
  }

  function updateButtons() {
    const e = state.detail;
    const closed = !!e && e.status === "closed";
    const recall = $("#recall-btn");
    if (recall) recall.disabled = state.busy || !e || !ONBOARD_STATUSES.has(e.status);
    const close = $("#close-btn");
    if (close) close.disabled = state.busy || !e || closed;
    const as = $("#as-btn");
    if (as) {
      as.disabled = state.busy || !e || closed;
      as.textContent = e && e.status !== "new" && e.flight_id ? "Update assignment" : "Hand to crew";
    }
    for (const id of ["#as-flight", "#as-pax", "#as-seat", "#as-instr"]) {
      const el = $(id);
      if (el) el.disabled = !e || closed;
    }
    const nb = $("#note-btn");
    if (nb) nb.disabled = state.busy || !e;
  }

  // Runs an action on the selected enquiry; the answer is the updated enquiry.
  // Returns true on success. Errors are shown as a toast unless `throwErrors`.
  async function act(tail, body, okMessage, throwErrors) {
    const e = state.detail;
    if (!e || state.busy) return false;
    state.busy = true;
    updateButtons();
    try {
      const updated = await api("POST", enquiryPath(e.id, tail), body);
      if (updated && updated.id === e.id && state.selectedId === e.id) {
        state.detail = updated;
        if (state.enquiries) state.enquiries = state.enquiries.map((x) => (x.id === updated.id ? updated : x));
        state.queueSig = "";
        renderQueue();
      }
      if (okMessage) toast(okMessage, "ok");
      return true;
    } catch (err) {
      if (throwErrors) throw err;
      if (err.status !== 401) toast(err.message, "error");
      return false;
    } finally {
      state.busy = false;
      state.detailSig = "";
      updateEnquiryView(true);
    }
  }

  // ---------------------------------------------------------------------------
  // Dialogs
  // ---------------------------------------------------------------------------

  // Opens the shared <dialog> with a form. onSubmit(form) may throw: the error
  // is shown inside the dialog and it stays open.
  function openDialog(title, body, submitLabel, onSubmit, danger) {
    const dlg = $("#dialog");
    if (dlg.open) dlg.close();
    const error = h("p", { class: "form-error", role: "alert", hidden: true });
    const submit = h("button", { type: "submit", class: "btn " + (danger ? "btn-danger" : "btn-primary") }, submitLabel);
    const form = h("form", { class: "dialog-form", novalidate: true },
      h("h2", null, title),
      body,
      error,
      h("div", { class: "form-actions" },
        h("button", { type: "button", class: "btn", onclick: () => dlg.close() }, "Cancel"),
        submit));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      submit.disabled = true;
      error.hidden = true;
      try {
        await onSubmit(form);
        if (dlg.open) dlg.close();
      } catch (e) {
        if (e && e.status === 401) return;
        error.textContent = e && e.message ? e.message : String(e);
        error.hidden = false;
      } finally {
        submit.disabled = false;
      }
    });
    fill(dlg, form);
    dlg.showModal();
    const first = form.querySelector("input, select, textarea");
    if (first) first.focus();
  }

  function openClose() {
    const e = state.detail;
    if (!e) return;
    const reason = h("textarea", { name: "reason", rows: "2", placeholder: "Optional: why, or what you replied to the customer" });
    const force = h("input", { type: "checkbox", name: "force" });
    const noOutcome = !OUTCOME_STATUSES.has(e.status);
    openDialog("Close this enquiry", [
      h("p", null, "Close the loop once you have replied to the customer on ", channelName(e.channel) || "their channel", "."),
      noOutcome ? h("p", { class: "callout" }, "The crew have not reported an outcome yet. Closing now needs “force”; the tablets will drop the enquiry.") : null,
      h("label", null, "Reason", reason),
      h("label", { class: "check" }, force, " Force close (even if the crew have not reported back)"),
    ], "Close enquiry", async () => {
      await act("/close", { force: force.checked, reason: reason.value.trim() }, "Enquiry closed", true);
    });
  }

  function openRecall() {
    const e = state.detail;
    if (!e) return;
    const reason = h("textarea", { name: "reason", rows: "2", placeholder: "Optional: e.g. wrong flight, solved on the ground" });
    openDialog("Recall from the aircraft", [
      h("p", null, "Take this enquiry back from flight ", h("strong", null, e.flight_id || "?"), ". The crew's tablets remove it at their next sync."),
      h("label", null, "Reason", reason),
    ], "Recall", async () => {
      await act("/recall", { reason: reason.value.trim() }, "Enquiry recalled", true);
    }, true);
  }

  function openNewEnquiry() {
    const channel = h("select", { name: "channel" },
      Object.keys(L.channel).filter((k) => k !== "x").map((k) => h("option", { value: k }, L.channel[k][1])));
    const handle = h("input", { name: "handle", type: "text", autocomplete: "off", placeholder: "@anna", required: true });
    const external = h("input", { name: "external_id", type: "text", autocomplete: "off", placeholder: "ID of the post or message" });
    const language = h("input", { name: "language", type: "text", list: "lang-list", value: "en", maxlength: "8", class: "input-lang" });
    const langs = h("datalist", { id: "lang-list" }, L.languages.map((l) => h("option", { value: l })));
    const text = h("textarea", { name: "text", rows: "5", required: true, dir: "auto", placeholder: "The customer's own words" });
    openDialog("New enquiry", [
      h("div", { class: "grid-2" },
        h("label", null, "Channel", channel),
        h("label", null, "Language", language, langs)),
      h("div", { class: "grid-2" },
        h("label", null, "Handle", handle),
        h("label", null, "External ID", external)),
      h("label", null, "Message", text),
    ], "Add enquiry", async () => {
      const body = {
        channel: channel.value,
        external_id: external.value.trim(),
        handle: handle.value.trim(),
        text: text.value.trim(),
        language: language.value.trim().toLowerCase(),
      };
      if (!body.handle) throw new Error("Enter the customer's handle.");
      if (!body.text) throw new Error("Enter the customer's message.");
      const created = await api("POST", "/enquiries", body);
      toast("Enquiry added", "ok");
      state.queueSig = "";
      if (created && created.id) location.hash = "#/enquiries/" + encodeURIComponent(created.id);
      else location.hash = "#/enquiries";
      mainLoop();
    });
  }

  // ---------------------------------------------------------------------------
  // Flights tab
  // ---------------------------------------------------------------------------

  async function loadFlights() {
    try {
      const d = await api("GET", "/flights");
      const flights = d && Array.isArray(d.flights) ? d.flights : [];
      const sig = JSON.stringify(flights);
      if (sig !== state.flightsSig) {
        state.flightsSig = sig;
        state.flights = flights.slice().sort((a, b) => String(b.date).localeCompare(String(a.date)) || String(a.number).localeCompare(String(b.number)));
        populateFilterSelects();
        const as = $("#as-flight");
        if (as) fillFlightOptions(as, as.value, "Choose a flight…");
        if (state.tab === "flights") renderFlightsTable();
      }
    } catch (_) {
      // shown by the connection indicator
    }
  }

  function renderFlightsTab() {
    const root = $("#tab-flights");
    if (root.dataset.built) { renderFlightsTable(); return; }
    root.dataset.built = "1";
    const today = new Date();
    const iso = today.getFullYear() + "-" + String(today.getMonth() + 1).padStart(2, "0") + "-" + String(today.getDate()).padStart(2, "0");
    const number = h("input", { type: "text", name: "number", placeholder: "KL0641", required: true, maxlength: "10", autocomplete: "off", class: "upper" });
    const date = h("input", { type: "date", name: "date", value: iso, required: true });
    const origin = h("input", { type: "text", name: "origin", placeholder: "AMS", maxlength: "4", autocomplete: "off", class: "upper input-iata" });
    const dest = h("input", { type: "text", name: "destination", placeholder: "JFK", maxlength: "4", autocomplete: "off", class: "upper input-iata" });
    const submit = h("button", { class: "btn btn-primary", type: "submit" }, "Add flight");
    const form = h("form", { class: "card inline-form" },
      h("h3", null, "Add a flight"),
      h("div", { class: "inline-fields" },
        h("label", null, "Flight number", number),
        h("label", null, "Date", date),
        h("label", null, "From", origin),
        h("label", null, "To", dest),
        submit));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const n = number.value.toUpperCase().replace(/\s+/g, "");
      if (!/^[A-Z0-9]{2,3}[0-9]{1,5}[A-Z]?$/.test(n)) { toast("Enter a flight number such as KL0641.", "error"); number.focus(); return; }
      if (!/^\d{4}-\d{2}-\d{2}$/.test(date.value)) { toast("Choose the flight date.", "error"); date.focus(); return; }
      const body = { id: n + "-" + date.value, number: n, date: date.value, origin: origin.value.trim().toUpperCase(), destination: dest.value.trim().toUpperCase() };
      submit.disabled = true;
      try {
        await api("POST", "/flights", body);
        toast("Flight " + body.id + " added", "ok");
        number.value = origin.value = dest.value = "";
        state.flightsSig = "";
        await loadFlights();
      } catch (e) {
        if (e.status !== 401) toast(e.message, "error");
      } finally {
        submit.disabled = false;
      }
    });
    fill(root,
      h("div", { class: "page-head" }, h("h2", null, "Flights")),
      form,
      h("section", { class: "card" }, h("div", { id: "flights-table", class: "table-wrap" })));
    renderFlightsTable();
  }

  function renderFlightsTable() {
    const box = $("#flights-table");
    if (!box) return;
    if (!state.flights.length) {
      fill(box, h("p", { class: "muted" }, "No flights yet. Add the passenger's flight above before handing an enquiry to its crew."));
      return;
    }
    fill(box, h("table", { class: "table" },
      h("thead", null, h("tr", null, ["Flight", "Date", "Route", "ID", ""].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", null, state.flights.map((f) => h("tr", null,
        h("td", null, h("strong", null, f.number || "")),
        h("td", null, f.date || ""),
        h("td", null, (f.origin || "?") + " → " + (f.destination || "?")),
        h("td", { class: "mono small" }, f.id || ""),
        h("td", { class: "right" }, h("button", {
          class: "btn btn-small", type: "button",
          onclick: () => {
            state.filters.flight_id = f.id;
            state.filters.status = "";
            local.setItem(FILTER_KEY, JSON.stringify(state.filters));
            populateFilterSelects();
            state.enquiries = null;
            state.queueSig = "";
            location.hash = "#/enquiries";
          },
        }, "Show enquiries")))))));
  }

  // ---------------------------------------------------------------------------
  // Fleet tab
  // ---------------------------------------------------------------------------

  async function loadDevices() {
    try {
      const d = await api("GET", "/devices");
      state.devices = d && Array.isArray(d.devices) ? d.devices : [];
    } catch (_) {
      // shown by the connection indicator
    }
    renderDevicesTable();
  }

  function renderFleetTab() {
    const root = $("#tab-fleet");
    if (root.dataset.built) { renderDevicesTable(); return; }
    root.dataset.built = "1";
    const name = h("input", { type: "text", name: "name", placeholder: "e.g. PH-BQA purser tablet", required: true, maxlength: "80", autocomplete: "off" });
    const submit = h("button", { class: "btn btn-primary", type: "submit" }, "Enrol device");
    const result = h("div", { id: "enrol-result" });
    const form = h("form", { class: "card inline-form" },
      h("h3", null, "Enrol a tablet"),
      h("div", { class: "inline-fields" }, h("label", { class: "grow" }, "Device name", name), submit),
      result);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const n = name.value.trim();
      if (!n) { toast("Give the device a name.", "error"); name.focus(); return; }
      submit.disabled = true;
      try {
        const d = await api("POST", "/devices", { name: n });
        name.value = "";
        showEnrolResult(result, d || {});
        state.devicesSig = "";
        loadDevices();
      } catch (e) {
        if (e.status !== 401) toast(e.message, "error");
      } finally {
        submit.disabled = false;
      }
    });
    fill(root,
      h("div", { class: "page-head" }, h("h2", null, "Fleet"), h("span", { id: "fleet-summary", class: "muted" })),
      h("section", { class: "card" }, h("div", { id: "devices-table", class: "table-wrap" })),
      form);
    renderDevicesTable();
  }

  function showEnrolResult(box, d) {
    const tokenInput = h("input", { type: "text", readonly: true, value: d.token || "", class: "mono token-field", "aria-label": "Device token" });
    const copy = h("button", {
      class: "btn", type: "button",
      onclick: async () => {
        try {
          await navigator.clipboard.writeText(tokenInput.value);
          toast("Token copied", "ok");
        } catch (_) {
          tokenInput.select();
          toast("Press Ctrl+C (⌘C) to copy the selected token.", "info");
        }
      },
    }, "Copy");
    fill(box, h("div", { class: "callout callout-ok" },
      h("p", null, h("strong", null, d.name || "Device"), " is enrolled (", h("span", { class: "mono" }, d.id || ""), "). Enter this token on the tablet. It is shown only once."),
      h("div", { class: "token-row" }, tokenInput, copy,
        h("button", { class: "btn btn-ghost", type: "button", onclick: () => box.replaceChildren() }, "Done"))));
  }

  function renderDevicesTable() {
    const box = $("#devices-table");
    if (!box) return;
    const sig = JSON.stringify(state.devices) + "|" + Math.floor(Date.now() / 10000);
    if (sig === state.devicesSig) return;
    state.devicesSig = sig;
    if (state.devices === null) { fill(box, h("p", { class: "muted" }, "Loading…")); return; }
    const devs = state.devices;
    const online = devs.filter((d) => d.online).length;
    const waiting = devs.filter((d) => Number(d.pending) > 0).length;
    const sum = $("#fleet-summary");
    if (sum) sum.textContent = devs.length + (devs.length === 1 ? " device" : " devices") + " · " + online + " online · " + waiting + " with changes waiting to sync";
    if (!devs.length) {
      fill(box, h("p", { class: "muted" }, "No devices enrolled yet."));
      return;
    }
    const hour = 3600 * 1000;
    fill(box, h("table", { class: "table" },
      h("thead", null, h("tr", null, ["", "Device", "Flights", "Pending", "Cursor lag", "Last seen", "Last sync"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", null, devs.map((d) => {
        const pending = Number(d.pending) || 0;
        const lag = Number(d.cursor_lag) || 0;
        const syncOld = !d.last_sync || Date.now() - ts(d.last_sync) > 2 * hour;
        return h("tr", { class: !d.online && pending > 0 ? "row-warn" : "" },
          h("td", null, h("span", { class: "dot " + (d.online ? "dot-on" : "dot-off"), title: d.online ? "Online" : "Offline" }),
            h("span", { class: "visually-hidden" }, d.online ? "Online" : "Offline")),
          h("td", null, h("strong", null, d.name || "(unnamed)"), h("div", { class: "mono small muted" }, d.id || "")),
          h("td", null, Array.isArray(d.flights) && d.flights.length ? d.flights.join(", ") : h("span", { class: "muted" }, "—")),
          h("td", { class: "num" + (pending > 0 ? " text-warn" : "") }, String(pending)),
          h("td", { class: "num" + (lag > 0 ? " text-warn" : "") }, String(lag)),
          h("td", null, d.last_seen ? timeEl(d.last_seen, agoLong(d.last_seen)) : h("span", { class: "muted" }, "never")),
          h("td", { class: syncOld ? "text-warn" : "" }, d.last_sync ? timeEl(d.last_sync, agoLong(d.last_sync)) : "never"));
      }))));
  }

  // ---------------------------------------------------------------------------
  // Start
  // ---------------------------------------------------------------------------

  let started = false;

  function startApp() {
    showApp();
    populateFilterSelects();
    if (!location.hash || location.hash === "#") history.replaceState(null, "", location.pathname + location.search + "#/enquiries");
    state.selectedId = undefined; // force the first selectEnquiry
    applyRoute();
    renderConn();
    if (!started) {
      started = true;
      setInterval(renderConn, 1000);
    }
    flightsLoop();
    mainLoop();
  }

  function init() {
    takeTokenFromFragment();
    $("#signin-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const input = $("#signin-token");
      const tok = input.value.trim();
      if (!tok) return;
      const btn = ev.target.querySelector("button[type=submit]");
      btn.disabled = true;
      const err = await signIn(tok);
      btn.disabled = false;
      if (err) showSignIn(err);
      else input.value = "";
    });
    $("#signout-btn").addEventListener("click", () => signOut(""));
    $("#new-enquiry-btn").addEventListener("click", openNewEnquiry);
    $("#filter-status").addEventListener("change", onFilterChange);
    $("#filter-flight").addEventListener("change", onFilterChange);
    $("#queue-list").addEventListener("keydown", onQueueKey);
    window.addEventListener("hashchange", () => {
      if (location.hash.includes("token=")) {
        takeTokenFromFragment();
        const tok = session.getItem(TOKEN_KEY);
        if (tok && tok !== state.token) { state.token = tok; startApp(); return; }
      }
      if (state.token) applyRoute();
    });
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden && state.token) { mainLoop(); flightsLoop(); }
    });

    const tok = session.getItem(TOKEN_KEY);
    if (tok) {
      state.token = tok;
      startApp();
    } else {
      showSignIn("");
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();

  window.CabinConsole = Object.freeze({
    state,
    refresh() { mainLoop(); flightsLoop(); },
    signOut() { signOut(""); },
  });
})();
