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

  const { $, h, svg, fill, ApiError } = window.CabinUI;

  function ts(iso) { return iso ? Date.parse(iso) : NaN; }

  function age(iso) {
    const t = ts(iso);
    if (!Number.isFinite(t)) return "";
    const s = (Date.now() - t) / 1000;
    return s < 60 ? "now" : window.CabinUI.duration(s);
  }

  function agoLong(iso) {
    const a = age(iso);
    if (!a) return "never";
    return a === "now" ? "just now" : a + " ago";
  }

  const when = (iso) => window.CabinUI.clock(iso);

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

  const session = window.CabinUI.store("sessionStorage");
  const local = window.CabinUI.store("localStorage");

  // ---------------------------------------------------------------------------
  // State
  // ---------------------------------------------------------------------------

  const state = {
    token: null,
    tab: "enquiries",
    selectedId: null,
    filters: { channel: "", language: "" },
    enquiries: null,
    queueSig: "",
    queueError: null,
    detail: null,
    detailSig: "",
    assignDirty: false,
    flights: [],
    flightsSig: "",
    lastOk: 0,
    lastError: null,
    busy: false,
    skew: 0,
    matches: null,
    assignPassengerId: "",
    templates: {},
    replyLang: "",
    figures: null,
    figuresAt: 0,
    figuresError: "",
    user: null,
    stopEvents: null,
  };

  try {
    const f = JSON.parse(local.getItem(FILTER_KEY) || "{}");
    if (typeof f.channel === "string") state.filters.channel = f.channel;
    if (typeof f.language === "string") state.filters.language = f.language;
  } catch (_) { /* ignore a bad saved value */ }

  // ---------------------------------------------------------------------------
  // API
  // ---------------------------------------------------------------------------

  // The one fetch wrapper (shared/ui.js): the bearer token from the sign-in,
  // the session cookie and its CSRF header once the ground sets them.
  const api = window.CabinUI.client({
    base: API,
    timeoutMs: REQUEST_TIMEOUT_MS,
    token: () => state.token || "",
    text: (code, status) => code === "timeout" ? "The server took too long to answer." : code === "network" ? "The server could not be reached." : "The server answered with error " + status + ".",
    onUnauthorized: () => signOut("Your session is no longer valid. Please sign in again.", true),
    onResult: (reached, err) => {
      if (reached) { state.lastOk = Date.now(); if (!err) state.lastError = null; } else state.lastError = err;
    },
  });

  function enquiryPath(id, tail) {
    return "/enquiries/" + encodeURIComponent(id) + (tail || "");
  }

  // ---------------------------------------------------------------------------
  // Toasts
  // ---------------------------------------------------------------------------

  const toast = (message, kind) => window.CabinUI.toast(message, kind);

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
    setTimeout(() => $("#signin-user").focus(), 0);
  }

  function showApp() {
    $("#signin").hidden = true;
    $("#app").hidden = false;
  }

  function signOut(message, expired) {
    if (state.stopEvents) { state.stopEvents(); state.stopEvents = null; }
    state.token = null;
    session.removeItem(TOKEN_KEY);
    const dlg = $("#dialog");
    if (dlg.open) dlg.close();
    state.enquiries = null;
    state.detail = null;
    state.devices = null;
    state.queueSig = state.detailSig = state.flightsSig = "";
    // A password session also has a cookie on the ground: end it (not on a
    // 401, where the server has ended it already).
    if (state.user && !["admin-token", "api"].includes(state.user.via) && !expired) api("POST", "/logout").catch(() => {});
    state.user = null;
    showSignIn(message);
  }

  // passwordSignIn: POST /login gives a token (and a session cookie with its
  // CSRF cookie, which the shared fetch wrapper echoes).
  async function passwordSignIn(username, password) {
    let res;
    try {
      res = await api("POST", "/login", { username, password });
    } catch (e) {
      if (e.status === 401 || e.status === 403) return "User name or password not accepted.";
      if (e.status === 404 || e.status === 405) return "Password sign-in is not enabled on this server yet: use an access token.";
      return e.message;
    }
    if (!res || !res.token) return "The server did not start a session.";
    state.user = res.user || null;
    return signIn(res.token);
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

  const makeLoop = (fn, ms) => window.CabinUI.makeLoop(fn, ms, () => !!state.token);

  async function tick() {
    if (state.tab === "enquiries") await Promise.all([loadQueue(), loadDetail()]);
    else if (state.tab === "figures") await loadFigures();
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
    const tab = ["enquiries", "flights", "figures"].includes(parts[0]) ? parts[0] : "enquiries";
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
    for (const name of ["enquiries", "flights", "figures"]) $("#tab-" + name).hidden = name !== r.tab;

    if (r.tab === "enquiries" && r.id !== state.selectedId) selectEnquiry(r.id);
    if (r.tab === "flights") renderFlightsTab();
    if (r.tab === "figures") renderFiguresTab();
    if (tabChanged || r.tab === "enquiries") mainLoop();
  }

  // ---------------------------------------------------------------------------
  // Queue (left column)
  // ---------------------------------------------------------------------------

  function populateFilterSelects() {
    const ch = $("#filter-channel");
    if (!ch.options.length) {
      ch.append(h("option", { value: "" }, "All channels"));
      for (const k of Object.keys(L.channel).filter((k) => k !== "x")) ch.append(h("option", { value: k }, L.channel[k][1]));
    }
    ch.value = state.filters.channel;
    const lg = $("#filter-language");
    if (!lg.options.length) {
      lg.append(h("option", { value: "" }, "All languages"));
      for (const l of L.languages) lg.append(h("option", { value: l }, l.toUpperCase()));
    }
    lg.value = state.filters.language;
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
    state.filters.channel = $("#filter-channel").value;
    state.filters.language = $("#filter-language").value;
    local.setItem(FILTER_KEY, JSON.stringify(state.filters));
    state.enquiries = null;
    state.queueSig = "";
    renderQueue();
    mainLoop();
  }

  async function loadQueue() {
    const q = new URLSearchParams();
    if (state.filters.channel) q.set("channel", state.filters.channel);
    if (state.filters.language) q.set("language", state.filters.language);
    const qs = q.toString();
    const filterAtStart = JSON.stringify(state.filters);
    try {
      // The queue: open enquiries by deadline, then priority (the ground's order).
      const d = await api("GET", "/queue" + (qs ? "?" + qs : ""));
      if (JSON.stringify(state.filters) !== filterAtStart) return; // filters changed meanwhile
      state.enquiries = d && Array.isArray(d.queue) ? d.queue : [];
      if (d && d.now) state.skew = Date.parse(d.now) - Date.now();
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
      fill(list, h("p", { class: "empty" }, state.filters.channel || state.filters.language ? "No open enquiries match these filters." : "The queue is empty. Well done."));
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
    const selected = e.id === state.selectedId;
    const level = e.priority && e.priority.level ? e.priority.level : "";
    return h("a", {
      class: "qrow" + (selected ? " selected" : "") + (e.flagged ? " flagged" : ""),
      href: "#/enquiries/" + encodeURIComponent(e.id),
      "aria-current": selected ? "true" : undefined,
      dataset: { id: e.id },
    },
    channelBadge(e.channel),
    h("span", { class: "q-main" },
      h("span", { class: "q-line1" },
        h("span", { class: "q-handle" }, e.customer || e.handle || "(no handle)"),
        e.language ? h("span", { class: "lang" }, String(e.language).toUpperCase()) : null,
        level ? h("span", { class: "prio prio-" + level, title: priorityTitle(e.priority) }, level) : null,
        e.flagged ? h("span", { class: "chip chip-flag" }, "wrote again") : null),
      h("span", { class: "q-text", dir: "auto" }, firstWords(e.text, 90))),
    h("span", { class: "q-side" },
      slaClock(e),
      statusChip(e.status)));
  }

  function priorityTitle(p) {
    if (!p) return "";
    return "Priority " + p.level + " (" + p.score + "): " + (p.reasons || []).map((r) => r.rule + (r.detail ? " " + r.detail : "")).join(", ");
  }

  // slaClock shows the time left before the enquiry's deadline (or how long
  // it is overdue); tickSLA updates every clock once a second.
  function slaClock(e) {
    if (!e.deadline) return h("span", { class: "sla sla-none", title: "Answered: nothing owed" }, "answered");
    const el = h("span", { class: "sla", dataset: { deadline: e.deadline }, title: "Deadline " + full(e.deadline) });
    paintSLA(el);
    return el;
  }

  function paintSLA(el) {
    const left = (Date.parse(el.dataset.deadline) - (Date.now() + (state.skew || 0))) / 1000;
    const d = window.CabinUI.duration(left);
    el.textContent = left < 0 ? "overdue " + d : d + " left";
    el.className = "sla " + (left < 0 ? "sla-over" : left < 600 ? "sla-soon" : "sla-ok");
  }

  function tickSLA() {
    for (const el of document.querySelectorAll(".sla[data-deadline]")) paintSLA(el);
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
    state.matches = null;
    state.assignPassengerId = "";
    buildEnquiryView();
    updateEnquiryView(true);
    loadDetail();
    loadMatches(id);
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
        h("h3", null, "Conversation"),
        h("div", { id: "ev-text" })),
      h("section", { class: "card" },
        h("h3", null, "Onboard progress"),
        h("ol", { id: "ev-stepper", class: "stepper" })),
      h("section", { class: "card", id: "ev-matches-card" },
        h("h3", null, "Who is this? Suggested passengers"),
        h("div", { id: "ev-matches" }, h("p", { class: "muted" }, "Looking up the manifests…"))),
      form,
      buildReplyForm(),
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
      // A confirmed suggestion assigns by manifest line, so name and seat come
      // from the booking (the ground checks it is on that flight).
      if (state.assignPassengerId && state.assignPassengerId === body.flight_id + "/" + body.seat) {
        body.passenger_id = state.assignPassengerId;
        delete body.passenger_name;
        delete body.seat;
      }
      if (!body.flight_id) { toast("Choose the passenger's flight.", "error"); flight.focus(); return; }
      if (!body.passenger_name && !body.passenger_id) { toast("Enter the passenger's name as on the booking.", "error"); pax.focus(); return; }
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

    renderConversation(e);
    renderMatches();
    syncReplyForm(e);

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
  // Conversation, matches and replies
  // ---------------------------------------------------------------------------

  // renderConversation: the customer's messages and the team's replies in
  // time order, customer on the left, team on the right.
  function renderConversation(e) {
    const items = [];
    const msgs = Array.isArray(e.messages) && e.messages.length ? e.messages : [{ text: e.text, at: e.received_at }];
    for (const m of msgs) items.push({ who: "customer", text: m.text, at: m.at, from: m.from });
    for (const r of Array.isArray(e.replies) ? e.replies : []) items.push({ who: "team", text: r.text, at: r.at, by: r.by });
    items.sort((a, b) => String(a.at).localeCompare(String(b.at)));
    fill($("#ev-text"),
      e.flagged ? h("p", { class: "callout" }, "The customer wrote again after the crew's outcome: answer them.") : null,
      h("ol", { class: "thread" }, items.map((x) => h("li", { class: "msg msg-" + x.who },
        h("p", { class: "msg-text", dir: "auto", lang: x.who === "customer" ? e.language || undefined : undefined }, x.text || ""),
        h("p", { class: "msg-meta muted small" },
          x.who === "customer" ? (e.customer || e.handle || "Customer") : byName(x.by), " · ", timeEl(x.at), x.from ? " · merged in" : "")))));
  }

  async function loadMatches(id) {
    try {
      const m = await api("GET", enquiryPath(id, "/matches"));
      if (state.selectedId !== id) return;
      state.matches = m || { passengers: [], flights: [] };
    } catch (e) {
      if (state.selectedId !== id) return;
      state.matches = { error: e.message, passengers: [], flights: [] };
    }
    renderMatches();
  }

  function renderMatches() {
    const box = $("#ev-matches");
    const e = state.detail;
    if (!box) return;
    const m = state.matches;
    if (!m) return;
    const card = $("#ev-matches-card");
    // Once the crew have the enquiry, the match is history: keep it small.
    if (card) card.classList.toggle("card-quiet", !!e && e.status !== "new");
    const pax = Array.isArray(m.passengers) ? m.passengers : [];
    const flights = Array.isArray(m.flights) ? m.flights : [];
    fill(box,
      m.error ? h("p", { class: "text-bad" }, "Could not look up matches: " + m.error) : null,
      !m.error && !pax.length ? h("p", { class: "muted" }, "No passenger on the manifests matches this customer. Assign by hand below.") : null,
      pax.length ? h("ul", { class: "matches" }, pax.slice(0, 5).map((c) => {
        const tg = c.target || {};
        const p = c.passenger || {};
        return h("li", { class: "match" + (c.score >= 80 ? " match-confident" : "") },
          h("div", { class: "match-main" },
            h("strong", null, tg.passenger_name || p.name || "?"),
            h("span", { class: "muted" }, " · ", tg.flight_id || p.flight_id || "", tg.seat ? " seat " + tg.seat : ""),
            p.tier && p.tier !== "none" ? h("span", { class: "chip" }, p.tier) : null,
            h("div", { class: "small muted" }, (c.reasons || []).map((r) => r.reason + (r.detail ? " (" + r.detail + ")" : "")).join(" · ")),
            tg.why ? h("div", { class: "small" }, tg.why) : null),
          h("div", { class: "match-side" },
            h("span", { class: "score", title: "Match score: 80 or more is confident" }, String(c.score)),
            h("button", {
              class: "btn btn-small use-match", type: "button", disabled: !e || e.status === "closed" ? true : undefined,
              onclick: () => useMatch(tg),
            }, "Use")));
      })) : null,
      flights.length ? h("p", { class: "small muted" }, "Flights the text names: ",
        flights.map((f) => (f.flight && f.flight.id) || "").filter(Boolean).join(", ")) : null);
  }

  // useMatch puts a suggestion into the hand-off form; the agent adds the
  // instructions and confirms with "Hand to crew".
  function useMatch(tg) {
    const flight = $("#as-flight");
    if (!flight || !tg.flight_id) return;
    fillFlightOptions(flight, tg.flight_id, "Choose a flight…");
    $("#as-pax").value = tg.passenger_name || "";
    $("#as-seat").value = tg.seat || "";
    state.assignPassengerId = tg.passenger_id || "";
    state.assignDirty = true;
    $("#as-dirty").hidden = false;
    $("#as-instr").focus();
  }

  function buildReplyForm() {
    const tpl = h("select", { id: "rp-template" }, h("option", { value: "" }, "Write your own…"));
    const text = h("textarea", { id: "rp-text", rows: "3", dir: "auto", placeholder: "Reply to the customer on their channel" });
    const preview = h("p", { id: "rp-preview", class: "small muted", hidden: true });
    const submit = h("button", { id: "rp-btn", class: "btn btn-primary", type: "submit" }, "Send reply");
    tpl.addEventListener("change", () => {
      const t = (state.templates[state.replyLang] || []).find((x) => x.id === tpl.value);
      preview.hidden = !t;
      preview.textContent = t ? "Template: " + t.text + " (placeholders are filled in by the server)" : "";
      if (t) text.value = "";
    });
    const form = h("form", { id: "reply-form", class: "card" },
      h("h3", null, "Reply to the customer"),
      h("div", { id: "rp-window", class: "small muted" }),
      h("label", null, "Template", tpl),
      preview,
      h("label", null, "Or your own words", text),
      h("div", { class: "form-actions" }, submit));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const own = text.value.trim();
      if (!own && !tpl.value) { toast("Pick a template or write a reply.", "info"); return; }
      const body = own ? { text: own } : { template_id: tpl.value };
      if (await act("/reply", body, "Reply sent")) {
        text.value = "";
        tpl.value = "";
        preview.hidden = true;
      }
    });
    return form;
  }

  async function loadTemplates(lang) {
    if (state.templates[lang]) return;
    state.templates[lang] = [];
    try {
      const d = await api("GET", "/templates?language=" + encodeURIComponent(lang));
      state.templates[lang] = d && Array.isArray(d.templates) ? d.templates : [];
    } catch (_) {
      delete state.templates[lang]; // try again next time
      return;
    }
    if (state.replyLang === lang) fillTemplates();
  }

  function fillTemplates() {
    const sel = $("#rp-template");
    if (!sel) return;
    const keep = sel.value;
    fill(sel, h("option", { value: "" }, "Write your own…"),
      (state.templates[state.replyLang] || []).map((x) => h("option", { value: x.id }, x.name + " (" + String(x.language).toUpperCase() + ")")));
    sel.value = keep;
  }

  function syncReplyForm(e) {
    const lang = e.language || "en";
    if (state.replyLang !== lang) {
      state.replyLang = lang;
      fillTemplates();
      loadTemplates(lang);
    }
    const w = $("#rp-window");
    const c = e.care || {};
    if (w) {
      w.textContent = [
        c.deadline ? "Answer by " + when(c.deadline) : "Nothing owed right now",
        c.reply_window_closes_at ? "the channel accepts replies until " + when(c.reply_window_closes_at) : "",
      ].filter(Boolean).join(" · ");
    }
    const b = $("#rp-btn");
    if (b) b.disabled = state.busy || e.status === "closed";
  }

  // ---------------------------------------------------------------------------
  // Figures: the team's response times, drawn as inline SVG
  // ---------------------------------------------------------------------------

  function renderFiguresTab() {
    const root = $("#tab-figures");
    if (!root.dataset.built) {
      root.dataset.built = "1";
      fill(root,
        h("div", { class: "page-head" }, h("h2", null, "Response times"), h("span", { id: "fig-asof", class: "muted" })),
        h("div", { id: "fig-cards", class: "fig-cards" }),
        h("div", { class: "grid-2" },
          h("section", { class: "card" }, h("h3", null, "Last hour: average first response per 10 minutes"), h("div", { id: "fig-hour", class: "chart" })),
          h("section", { class: "card" }, h("h3", null, "Last 7 days: average first response per day"), h("div", { id: "fig-week", class: "chart" }))),
        h("div", { class: "grid-2" },
          h("section", { class: "card" }, h("h3", null, "Answered within 5 and 60 minutes (last 7 days)"), h("div", { id: "fig-share", class: "chart" })),
          h("section", { class: "card" }, h("h3", null, "Public banner preview"),
            h("p", { class: "small muted" }, "What customers see in the profile header (", h("a", { href: "/public/response-time", target: "_blank", rel: "noopener" }, "JSON"), ")."),
            h("img", { id: "fig-banner", class: "banner", alt: "The public response-time banner", width: "1500", height: "500" }))));
    }
    paintFigures();
    loadFigures();
  }

  async function loadFigures() {
    if (state.figuresAt && Date.now() - state.figuresAt < 30000) return;
    state.figuresAt = Date.now();
    const now = Date.now();
    const range = (from, to) => "/metrics?figure=first_response&by=channel&from=" + encodeURIComponent(new Date(from).toISOString()) + "&to=" + encodeURIComponent(new Date(to).toISOString());
    const ten = 10 * 60000;
    const day = 24 * 3600000;
    const hourStart = now - 6 * ten;
    const dayStart = new Date(now); dayStart.setHours(0, 0, 0, 0);
    try {
      const [head, ...rest] = await Promise.all([
        api("GET", "/metrics/response"),
        ...[0, 1, 2, 3, 4, 5].map((i) => api("GET", range(hourStart + i * ten, hourStart + (i + 1) * ten))),
        ...[6, 5, 4, 3, 2, 1, 0].map((i) => api("GET", range(dayStart.getTime() - i * day, Math.min(now, dayStart.getTime() - (i - 1) * day)))),
      ]);
      state.figures = {
        head,
        hour: rest.slice(0, 6).map((d, i) => ({ label: new Date(hourStart + (i + 1) * ten).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" }), all: d.all })),
        week: rest.slice(6).map((d, i) => ({ label: new Date(dayStart.getTime() - (6 - i) * day).toLocaleDateString(undefined, { weekday: "short" }), all: d.all })),
      };
    } catch (e) {
      state.figuresAt = 0;
      if (e.status !== 401) state.figuresError = e.message;
    }
    paintFigures();
  }

  function paintFigures() {
    const f = state.figures;
    const cards = $("#fig-cards");
    if (!cards) return;
    const banner = $("#fig-banner");
    if (banner && f && banner.dataset.asof !== f.head.as_of) {
      banner.dataset.asof = f.head.as_of;
      banner.src = "/public/response-time.svg?t=" + encodeURIComponent(f.head.as_of || "");
    }
    if (!f) { fill(cards, h("p", { class: "muted" }, state.figuresError || "Loading…")); return; }
    const hd = f.head;
    $("#fig-asof").textContent = "as of " + when(hd.as_of) + " (refreshed every 5 minutes)";
    const pct = (n, d) => d ? Math.round(100 * n / d) + "%" : "—";
    const card = (label, value, sub, cls) => h("div", { class: "fig " + (cls || "") }, h("div", { class: "fig-value" }, value), h("div", { class: "fig-label" }, label), sub ? h("div", { class: "fig-sub muted small" }, sub) : null);
    const avg = hd.average_first_response_minutes;
    fill(cards,
      card("Average first response, last hour", avg === null || avg === undefined ? "—" : Math.round(avg) + " min", hd.first_responses + " replies", avg > (hd.sla_minutes || 60) ? "fig-bad" : "fig-ok"),
      card("Answered within 5 min", pct(hd.answered_within_5m, hd.counted_5m), (hd.answered_within_5m || 0) + " of " + (hd.counted_5m || 0) + " in 7 days"),
      card("Answered within 60 min", pct(hd.answered_within_60m, hd.counted_60m), (hd.answered_within_60m || 0) + " of " + (hd.counted_60m || 0) + " in 7 days"),
      card("Open enquiries", String(hd.open_count ?? "—"), hd.oldest_open_seconds ? "oldest waiting " + window.CabinUI.duration(hd.oldest_open_seconds) : ""));
    fill($("#fig-hour"), barChart(f.hour, hd.sla_minutes || 60));
    fill($("#fig-week"), barChart(f.week, hd.sla_minutes || 60));
    fill($("#fig-share"), shareChart([
      { label: "within 5 min", n: hd.answered_within_5m, d: hd.counted_5m },
      { label: "within 60 min", n: hd.answered_within_60m, d: hd.counted_60m },
    ]));
  }

  // barChart draws average minutes per bucket with the SLA as a line.
  function barChart(buckets, slaMin) {
    const W = 480, H = 200, pad = { l: 36, r: 8, t: 10, b: 26 };
    const vals = buckets.map((b) => b.all && b.all.count ? b.all.average_seconds / 60 : 0);
    const max = Math.max(slaMin * 1.2, ...vals, 1);
    const bw = (W - pad.l - pad.r) / buckets.length;
    const y = (v) => pad.t + (H - pad.t - pad.b) * (1 - v / max);
    const slaY = y(slaMin);
    return svg("svg", { viewBox: "0 0 " + W + " " + H, role: "img", class: "bars", "aria-label": buckets.map((b, i) => b.label + ": " + (b.all && b.all.count ? Math.round(vals[i]) + " min" : "no replies")).join("; ") },
      [0, max / 2, max].map((v) => svg("g", null,
        svg("line", { x1: pad.l, x2: W - pad.r, y1: y(v), y2: y(v), class: "grid" }),
        svg("text", { x: pad.l - 4, y: y(v) + 4, class: "axis", "text-anchor": "end" }, Math.round(v) + "m"))),
      buckets.map((b, i) => {
        const v = vals[i];
        const x = pad.l + i * bw + bw * 0.15;
        return svg("g", null,
          b.all && b.all.count
            ? svg("rect", { x, y: y(v), width: bw * 0.7, height: Math.max(1, H - pad.b - y(v)), rx: 3, class: v > slaMin ? "bar bar-bad" : "bar" }, svg("title", null, b.label + ": " + Math.round(v) + " min, " + b.all.count + " replies"))
            : svg("text", { x: x + bw * 0.35, y: H - pad.b - 4, class: "axis", "text-anchor": "middle" }, "–"),
          svg("text", { x: x + bw * 0.35, y: H - 8, class: "axis", "text-anchor": "middle" }, b.label));
      }),
      svg("line", { x1: pad.l, x2: W - pad.r, y1: slaY, y2: slaY, class: "sla-line" }),
      svg("text", { x: W - pad.r, y: slaY - 4, class: "axis sla-label", "text-anchor": "end" }, "promise " + slaMin + " min"));
  }

  // shareChart draws one horizontal bar per share, full width = 100%.
  function shareChart(rows) {
    const W = 480, rowH = 44;
    return svg("svg", { viewBox: "0 0 " + W + " " + rows.length * rowH, role: "img", class: "shares", "aria-label": rows.map((r) => r.label + ": " + (r.d ? Math.round(100 * r.n / r.d) + "%" : "no data")).join("; ") },
      rows.map((r, i) => {
        const share = r.d ? r.n / r.d : 0;
        const y0 = i * rowH;
        return svg("g", null,
          svg("text", { x: 0, y: y0 + 16, class: "axis" }, r.label),
          svg("rect", { x: 0, y: y0 + 22, width: W, height: 14, rx: 7, class: "track" }),
          svg("rect", { x: 0, y: y0 + 22, width: Math.max(0, W * share), height: 14, rx: 7, class: share >= 0.9 ? "bar" : "bar bar-warn" }),
          svg("text", { x: W, y: y0 + 16, class: "axis", "text-anchor": "end" }, r.d ? Math.round(100 * share) + "% of " + r.d : "no enquiries yet"));
      }));
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

  // ---------------------------------------------------------------------------
  // Start
  // ---------------------------------------------------------------------------

  let started = false;

  // showUser: the account in the top bar, and the fleet dashboard link for
  // admins only (its routes answer 403 to agents and supervisors). Until
  // GET /me answers, the link stays hidden.
  function showUser() {
    const u = state.user;
    $("#whoami").textContent = u && u.username ? u.username + " (" + u.role + ")" : "";
    $("#fleet-link").hidden = !u || u.role !== "admin";
  }

  function startApp() {
    showApp();
    populateFilterSelects();
    if (!location.hash || location.hash === "#") history.replaceState(null, "", location.pathname + location.search + "#/enquiries");
    state.selectedId = undefined; // force the first selectEnquiry
    applyRoute();
    renderConn();
    if (!started) {
      started = true;
      setInterval(() => { renderConn(); tickSLA(); }, 1000);
    }
    showUser();
    // Who this is (a reload or a token sign-in has no login answer): the
    // fleet link is shown to admins only.
    if (!state.user) {
      api("GET", "/me").then((me) => { if (me && state.token) { state.user = me; showUser(); } }).catch(() => {});
    }
    flightsLoop();
    mainLoop();
    // Live changes (GET /api/v1/events, sync-admin issue) refresh at once;
    // polling stays as the fallback and the safety net.
    if (!state.stopEvents) {
      state.stopEvents = window.CabinUI.events({
        url: API + "/events?types=enquiry",
        token: () => state.token || "",
        onEvent: () => mainLoop(),
      });
    }
  }

  function init() {
    takeTokenFromFragment();
    $("#signin-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const user = $("#signin-user").value.trim();
      const pass = $("#signin-password").value;
      if (!user || !pass) { showSignIn("Enter your user name and password."); return; }
      const btn = ev.target.querySelector("button[type=submit]");
      btn.disabled = true;
      const err = await passwordSignIn(user, pass);
      btn.disabled = false;
      if (err) showSignIn(err);
      else $("#signin-password").value = "";
    });
    const useToken = async () => {
      const input = $("#signin-token");
      const tok = input.value.trim();
      if (!tok) return;
      const err = await signIn(tok);
      if (err) showSignIn(err);
      else input.value = "";
    };
    $("#signin-token-btn").addEventListener("click", useToken);
    $("#signin-token").addEventListener("keydown", (ev) => { if (ev.key === "Enter") { ev.preventDefault(); useToken(); } });
    $("#signout-btn").addEventListener("click", () => signOut(""));
    $("#new-enquiry-btn").addEventListener("click", openNewEnquiry);
    $("#filter-channel").addEventListener("change", onFilterChange);
    $("#filter-language").addEventListener("change", onFilterChange);
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
