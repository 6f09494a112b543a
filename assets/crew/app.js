// CabinCare crew tablet UI.
//
// Plain ES2020, no build step, no network access other than the local device
// API under /api/v1. Everything inserted into the page is built with DOM nodes
// and textContent (never innerHTML), so API data can never become markup.
// The only global is window.CabinCrew.
"use strict";

(function () {
  // ---------------------------------------------------------------------------
  // Settings
  // ---------------------------------------------------------------------------

  const API = "/api/v1";
  const STATUS_POLL_MS = 2000;
  const LIST_POLL_MS = 3000;
  const STATUS_STALE_MS = 7000; // no answer from the tablet service for this long: say so
  const REQUEST_TIMEOUT_MS = 8000;
  const THEME_KEY = "cabincare.crew.theme";

  // ---------------------------------------------------------------------------
  // Translations. One dictionary per language, flat keys. A value is either a
  // string or, for counted strings, an object keyed by Intl.PluralRules
  // categories (one, other, few, many...). "{name}" is replaced by params.name.
  // Only English for now; add a language by adding a sibling of `en`.
  // ---------------------------------------------------------------------------

  const STRINGS = {
    en: {
      "app.title": "CabinCare",
      "header.flight": "Flight",
      "header.noFlight": "No flight open",
      "header.changeFlight": "Change flight (now {flight})",

      "theme.toLight": "Switch to light theme",
      "theme.toDark": "Switch to dark theme",

      "sync.online": "Online",
      "sync.offline": "Offline",
      "sync.unknown": "Tablet service not answering",
      "sync.connecting": "Connecting…",
      "sync.pending": { one: "1 action waiting to send", other: "{count} actions waiting to send" },
      "sync.allSent": "everything sent",
      "sync.dead": { one: "1 action could not be sent", other: "{count} actions could not be sent" },
      "sync.lastSync": "last sync {ago}",
      "sync.never": "never synced",
      "sync.details.title": "Sync details",
      "sync.details.link": "Link to ground",
      "sync.details.device": "Tablet",
      "sync.details.flight": "Flight",
      "sync.details.pending": "Waiting to send",
      "sync.details.dead": "Could not be sent",
      "sync.details.lastSync": "Last sync",
      "sync.details.cursor": "Sync position",
      "sync.details.checked": "Checked",
      "sync.details.offlineHelp": "No connection to ground right now. Keep working: everything you record is stored on this tablet and sent when a connection comes back.",
      "sync.details.deadHelp": "Ground refused some of your actions. They are kept on this tablet. Tell the purser so ground can look at them.",
      "sync.details.unknownHelp": "The app on this tablet is not answering. Wait a moment; if it stays like this, restart the tablet app.",
      "sync.details.close": "Close",

      "time.justNow": "just now",
      "time.minutesAgo": { one: "1 min ago", other: "{count} min ago" },
      "time.hoursAgo": { one: "1 hour ago", other: "{count} hours ago" },
      "time.daysAgo": { one: "1 day ago", other: "{count} days ago" },
      "time.secondsAgo": { one: "1 s ago", other: "{count} s ago" },

      "loading": "Loading…",
      "loading.connecting": "Connecting to the tablet service…",

      "flight.title": "Open your flight",
      "flight.changeTitle": "Change flight",
      "flight.intro": "Enter the flight you are working on. You will see the passenger enquiries that ground has passed on for it.",
      "flight.number": "Flight number",
      "flight.numberHint": "For example KL0641",
      "flight.date": "Date of departure",
      "flight.preview": "Flight: {id}",
      "flight.open": "Open flight",
      "flight.cancel": "Cancel",
      "flight.invalidNumber": "Enter a flight number such as KL0641.",
      "flight.invalidDate": "Choose the date of the flight.",
      "flight.opened": "Flight {flight} is open.",

      "list.todo": "To do",
      "list.done": "Done",
      "list.empty": "No enquiries for this flight yet.",
      "list.emptyHint": "New enquiries from ground appear here by themselves as soon as this tablet receives them.",
      "list.loading": "Loading enquiries…",
      "list.error": "Could not load the enquiries: {message}",

      "card.seat": "Seat",
      "card.noSeat": "—",
      "card.unknownPassenger": "Passenger name not given",
      "card.instructions": "Ground asks",
      "card.via": "{handle} on {channel}",

      "status.new": "New",
      "status.assigned": "New",
      "status.delivered": "New",
      "status.acknowledged": "Seen",
      "status.resolved": "Resolved",
      "status.not_resolved": "Not resolved",
      "status.passenger_not_on_board": "Not on board",
      "status.escalated": "Escalated",
      "status.closed": "Closed",

      "outcome.resolved": "Resolved",
      "outcome.not_resolved": "Not resolved",
      "outcome.passenger_not_on_board": "Passenger not on board",
      "outcome.escalated": "Escalate to ground",
      "outcomeHint.resolved": "Handled in person",
      "outcomeHint.not_resolved": "Tried, but could not solve it",
      "outcomeHint.passenger_not_on_board": "Passenger is not on this flight",
      "outcomeHint.escalated": "Needs ground to act",

      "quick.servedFirst": "Served first and apologised",
      "quick.thanked": "Passenger thanked the crew",
      "quick.drink": "Offered a complimentary drink",
      "quick.notFound": "Passenger not found in seat",

      "detail.back": "All enquiries",
      "detail.seat": "Seat",
      "detail.customerWords": "What the passenger wrote",
      "detail.received": "Received {time}",
      "detail.instructions": "What ground asks you to do",
      "detail.noInstructions": "Ground gave no instructions.",
      "detail.seen": "Seen",
      "detail.seenHelp": "Tap to let ground know you have read this.",
      "detail.seenBy": "Seen by {by}, {time}",
      "detail.outcomeTitle": "Record outcome",
      "detail.changeOutcomeTitle": "Change outcome",
      "detail.recorded": "Recorded: {outcome}",
      "detail.recordedBy": "{by}, {time}",
      "detail.note": "Note",
      "detail.notePlaceholder": "What happened? (optional for an outcome)",
      "detail.quickNotes": "Quick notes",
      "detail.saveOutcome": "Save outcome: {outcome}",
      "detail.chooseOutcome": "Choose an outcome above",
      "detail.addNote": "Add note",
      "detail.noteEmpty": "Write a note first, or tap a quick note.",
      "detail.notes": "Notes",
      "detail.noNotes": "No notes yet.",
      "detail.history": "History",
      "detail.noHistory": "No history yet.",
      "detail.closed": "Ground has closed this enquiry. Nothing more to do.",
      "detail.notFound": "This enquiry is no longer on this tablet.",

      "history.create": "Received",
      "history.assign": "Passed to this flight",
      "history.recall": "Taken back by ground",
      "history.note": "Note added",
      "history.ack": "Seen",
      "history.outcome": "Outcome recorded",
      "history.close": "Closed",
      "history.effect.superseded": "overridden by a later change",
      "history.effect.ignored": "not applied",

      "by.ground": "Ground ({name})",
      "by.crew": "Crew ({name})",
      "by.unknown": "unknown",

      "channel.twitter": "X (Twitter)",
      "channel.x": "X (Twitter)",
      "channel.facebook": "Facebook",
      "channel.messenger": "Messenger",
      "channel.instagram": "Instagram",
      "channel.whatsapp": "WhatsApp",
      "channel.wechat": "WeChat",
      "channel.youtube": "YouTube",
      "channel.reddit": "Reddit",
      "channel.snapchat": "Snapchat",
      "channel.email": "E-mail",

      "toast.seen": "Marked as seen",
      "toast.noteAdded": "Note added",
      "toast.outcomeSaved": "Outcome saved: {outcome}",
      "toast.dismiss": "Tap to dismiss",

      "error.network": "The tablet service did not answer. Please try again.",
      "error.timeout": "The tablet service took too long to answer. Please try again.",
      "error.http": "Something went wrong (error {status}).",
    },
  };

  // ---------------------------------------------------------------------------
  // Small helpers
  // ---------------------------------------------------------------------------

  function pickLanguage() {
    const wanted = (navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || "en"]);
    for (const tag of wanted) {
      const base = String(tag || "").toLowerCase().split("-")[0];
      if (STRINGS[base]) return base;
    }
    return "en";
  }

  const lang = pickLanguage();
  const plural = new Intl.PluralRules(lang);

  function t(key, params) {
    let v = STRINGS[lang][key];
    if (v === undefined) v = STRINGS.en[key];
    if (v === undefined) return key;
    if (typeof v === "object") {
      const n = params && typeof params.count === "number" ? params.count : 0;
      v = v[plural.select(n)] ?? v.other;
    }
    return String(v).replace(/\{(\w+)\}/g, (m, name) =>
      params && params[name] !== undefined && params[name] !== null ? String(params[name]) : m);
  }

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

  function parseTime(iso) {
    if (!iso) return NaN;
    return Date.parse(iso);
  }

  function ago(iso) {
    const ts = parseTime(iso);
    if (!Number.isFinite(ts)) return "";
    const s = Math.max(0, (Date.now() - ts) / 1000);
    if (s < 45) return t("time.justNow");
    const m = Math.round(s / 60);
    if (m < 60) return t("time.minutesAgo", { count: m });
    const hrs = Math.round(m / 60);
    if (hrs < 48) return t("time.hoursAgo", { count: hrs });
    return t("time.daysAgo", { count: Math.round(hrs / 24) });
  }

  function clock(iso) {
    const ts = parseTime(iso);
    if (!Number.isFinite(ts)) return "";
    const d = new Date(ts);
    const now = new Date();
    const time = d.toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit" });
    if (d.toDateString() === now.toDateString()) return time;
    return d.toLocaleDateString(lang, { day: "numeric", month: "short" }) + " " + time;
  }

  function fullTime(iso) {
    const ts = parseTime(iso);
    return Number.isFinite(ts) ? new Date(ts).toLocaleString(lang) : "";
  }

  // A <time> element showing a short text with the exact moment on hover/long-press.
  function timeEl(iso, text) {
    return h("time", { datetime: iso || undefined, title: fullTime(iso) || undefined }, text);
  }

  function channelName(ch) {
    const key = "channel." + String(ch || "").toLowerCase();
    const v = t(key);
    return v === key ? String(ch || "") : v;
  }

  function byName(by) {
    const s = String(by || "");
    if (!s) return t("by.unknown");
    const i = s.indexOf(":");
    if (i > 0) {
      const kind = s.slice(0, i);
      const name = s.slice(i + 1);
      if (kind === "agent") return t("by.ground", { name });
      if (kind === "device" || kind === "crew") return t("by.crew", { name });
    }
    return s;
  }

  function formatFlight(id) {
    const m = /^(.+)-(\d{4})-(\d{2})-(\d{2})$/.exec(String(id || ""));
    if (!m) return String(id || "");
    const d = new Date(Number(m[2]), Number(m[3]) - 1, Number(m[4]));
    return m[1] + " · " + d.toLocaleDateString(lang, { day: "numeric", month: "short" });
  }

  function todayISO() {
    const d = new Date();
    const pad = (n) => String(n).padStart(2, "0");
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate());
  }

  const OPEN_STATUSES = new Set(["new", "assigned", "delivered", "acknowledged"]);
  const ACKABLE = new Set(["assigned", "delivered"]);
  const OUTCOMES = ["resolved", "not_resolved", "passenger_not_on_board", "escalated"];
  const QUICK_NOTES = ["quick.servedFirst", "quick.thanked", "quick.drink", "quick.notFound"];

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
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), REQUEST_TIMEOUT_MS);
    const opts = { method, headers: { Accept: "application/json" }, signal: ctrl.signal, cache: "no-store" };
    const crew = crewSession();
    if (crew) opts.headers.Authorization = "Bearer " + crew.token;
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    try {
      let res;
      try {
        res = await fetch(API + path, opts);
      } catch (e) {
        if (e && e.name === "AbortError") throw new ApiError("timeout", t("error.timeout"), 0);
        throw new ApiError("network", t("error.network"), 0);
      }
      let data = null;
      try {
        const text = await res.text();
        data = text ? JSON.parse(text) : null;
      } catch (_) {
        data = null;
      }
      if (res.status === 401 && path !== "/session") showSignIn();
      if (!res.ok) {
        const err = data && data.error ? data.error : {};
        throw new ApiError(err.code || "http_" + res.status, err.message || t("error.http", { status: res.status }), res.status);
      }
      return data;
    } finally {
      clearTimeout(timer);
    }
  }

  // ---------------------------------------------------------------------------
  // State
  // ---------------------------------------------------------------------------

  const state = {
    status: null,        // last /status answer
    statusAt: 0,         // when it arrived (ms)
    statusFailed: false, // last /status call failed
    enquiries: null,     // last list, or null before the first answer
    listError: null,
    listSig: "",
    detail: null,
    detailSig: "",
    viewKey: "",
    changingFlight: false,
    selectedOutcome: null,
    busy: false,
    listScroll: 0,
    lastListErrorToast: "",
  };

  // ---------------------------------------------------------------------------
  // Polling loops: one request at a time each, paused while the page is hidden.
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
        if (!document.hidden) await fn();
      } catch (e) {
        // fn reports its own errors; never let a loop die.
      }
      running = false;
      if (again) { again = false; run(); return; }
      timer = setTimeout(run, ms);
    }
    return run;
  }

  async function refreshStatus() {
    const before = state.status ? state.status.flight_id : undefined;
    try {
      const s = await api("GET", "/status");
      state.status = s || {};
      state.statusAt = Date.now();
      state.statusFailed = false;
      if (before !== state.status.flight_id) {
        state.enquiries = null;
        state.listSig = "";
        if (state.status.flight_id) listLoop();
      }
    } catch (e) {
      state.statusFailed = true;
    }
    renderHeader();
    renderMain();
  }

  async function refreshList() {
    if (!state.status || !state.status.flight_id) return;
    try {
      const d = await api("GET", "/enquiries");
      state.enquiries = d && Array.isArray(d.enquiries) ? d.enquiries : [];
      state.listError = null;
      state.lastListErrorToast = "";
    } catch (e) {
      state.listError = e;
    }
    if (route().name === "detail") await refreshDetail();
    updateList();
  }

  async function refreshDetail() {
    const r = route();
    if (r.name !== "detail") return;
    try {
      const e = await api("GET", "/enquiries/" + encodeURIComponent(r.id));
      if (route().id === r.id && e) {
        state.detail = e;
        updateDetail();
      }
    } catch (e) {
      if (e.status === 404 && route().id === r.id) {
        toast(t("detail.notFound"), "error");
        goList();
      }
    }
  }

  const statusLoop = makeLoop(refreshStatus, STATUS_POLL_MS);
  const listLoop = makeLoop(refreshList, LIST_POLL_MS);

  // ---------------------------------------------------------------------------
  // Header: flight and the sync badge
  // ---------------------------------------------------------------------------

  function syncView() {
    const s = state.status;
    const stale = !s || state.statusFailed && Date.now() - state.statusAt > STATUS_STALE_MS;
    if (!s && !state.statusFailed) return { cls: "sync-unknown", main: t("sync.connecting"), sub: "" };
    if (stale) return { cls: "sync-error", main: t("sync.unknown"), sub: s && s.last_sync ? t("sync.lastSync", { ago: ago(s.last_sync) }) : "" };
    const pending = Number(s.pending) || 0;
    const dead = Number(s.dead_letters) || 0;
    const parts = [];
    if (dead > 0) parts.push(t("sync.dead", { count: dead }));
    parts.push(pending > 0 ? t("sync.pending", { count: pending }) : t("sync.allSent"));
    parts.push(s.last_sync ? t("sync.lastSync", { ago: ago(s.last_sync) }) : t("sync.never"));
    let cls = s.connected ? (pending > 0 ? "sync-busy" : "sync-ok") : "sync-offline";
    if (dead > 0) cls = "sync-error";
    return { cls, main: s.connected ? t("sync.online") : t("sync.offline"), sub: parts.join(" · ") };
  }

  function renderHeader() {
    const v = syncView();
    const badge = $("#sync-badge");
    badge.className = "sync " + v.cls;
    $(".sync-main", badge).textContent = v.main;
    $(".sync-sub", badge).textContent = v.sub;
    badge.setAttribute("aria-label", v.main + (v.sub ? ". " + v.sub : ""));

    const fb = $("#flight-btn");
    const flight = state.status && state.status.flight_id;
    fb.textContent = flight ? formatFlight(flight) : t("header.noFlight");
    fb.disabled = !flight;
    fb.title = flight ? t("header.changeFlight", { flight }) : "";
    if (!$("#sync-details").hidden) renderSyncDetails();
  }

  function renderSyncDetails() {
    const s = state.status || {};
    const v = syncView();
    const row = (label, value) => h("div", { class: "kv" }, h("dt", null, label), h("dd", null, value));
    const help = [];
    if (v.cls === "sync-error" && !(Number(s.dead_letters) > 0)) help.push(t("sync.details.unknownHelp"));
    if (Number(s.dead_letters) > 0) help.push(t("sync.details.deadHelp"));
    if (state.status && !s.connected) help.push(t("sync.details.offlineHelp"));
    fill($("#sync-details"),
      h("div", { class: "sync-details-inner" },
        h("h2", null, t("sync.details.title")),
        h("dl", null,
          row(t("sync.details.link"), s.connected ? t("sync.online") : t("sync.offline")),
          row(t("sync.details.pending"), String(Number(s.pending) || 0)),
          row(t("sync.details.dead"), String(Number(s.dead_letters) || 0)),
          row(t("sync.details.lastSync"), s.last_sync ? fullTime(s.last_sync) + " (" + ago(s.last_sync) + ")" : t("sync.never")),
          row(t("sync.details.flight"), s.flight_id || "—"),
          row(t("sync.details.device"), s.device_id || "—"),
          row(t("sync.details.cursor"), s.cursor === undefined || s.cursor === null ? "—" : String(s.cursor)),
          row(t("sync.details.checked"), state.statusAt ? t("time.secondsAgo", { count: Math.round((Date.now() - state.statusAt) / 1000) }) : "—")),
        help.map((p) => h("p", { class: "sync-help" }, p)),
        h("button", { class: "btn", type: "button", onclick: toggleSyncDetails }, t("sync.details.close"))));
  }

  function toggleSyncDetails() {
    const panel = $("#sync-details");
    const open = panel.hidden;
    panel.hidden = !open;
    $("#sync-badge").setAttribute("aria-expanded", String(open));
    if (open) renderSyncDetails();
  }

  // ---------------------------------------------------------------------------
  // Theme
  // ---------------------------------------------------------------------------

  function savedTheme() {
    try { return localStorage.getItem(THEME_KEY) === "light" ? "light" : "dark"; } catch (_) { return "dark"; }
  }

  function applyTheme(theme) {
    document.documentElement.setAttribute("data-theme", theme);
    const meta = document.querySelector('meta[name="theme-color"]');
    if (meta) meta.setAttribute("content", theme === "light" ? "#f3f5f8" : "#0e1116");
    const btn = document.getElementById("theme-btn");
    if (btn) {
      btn.textContent = theme === "light" ? "☾" : "☀";
      btn.setAttribute("aria-label", theme === "light" ? t("theme.toDark") : t("theme.toLight"));
      btn.title = btn.getAttribute("aria-label");
    }
  }

  function toggleTheme() {
    const next = document.documentElement.getAttribute("data-theme") === "light" ? "dark" : "light";
    try { localStorage.setItem(THEME_KEY, next); } catch (_) { /* private mode: not remembered */ }
    applyTheme(next);
  }

  // ---------------------------------------------------------------------------
  // Toasts
  // ---------------------------------------------------------------------------

  function toast(message, kind) {
    kind = kind || "info";
    const box = $("#toasts");
    if (!box) return;
    const el = h("div", { class: "toast toast-" + kind, role: kind === "error" ? "alert" : "status", title: t("toast.dismiss") }, message);
    el.addEventListener("click", () => el.remove());
    box.append(el);
    while (box.children.length > 3) box.firstElementChild.remove();
    setTimeout(() => el.remove(), kind === "error" ? 7000 : 3000);
  }

  // ---------------------------------------------------------------------------
  // Routing: "#/" is the list, "#/e/<id>" an enquiry.
  // ---------------------------------------------------------------------------

  function route() {
    const m = /^#\/e\/(.+)$/.exec(location.hash);
    if (m) {
      try { return { name: "detail", id: decodeURIComponent(m[1]) }; } catch (_) { /* fall through */ }
    }
    return { name: "list", id: null };
  }

  function goList() {
    if (location.hash !== "#/") location.hash = "#/";
  }

  function renderMain() {
    const r = route();
    let key;
    if (!state.status) key = "loading";
    else if (!state.status.flight_id || state.changingFlight) key = "flight";
    else if (r.name === "detail") key = "detail:" + r.id;
    else key = "list";
    if (key === state.viewKey) return;

    if (state.viewKey === "list") state.listScroll = window.scrollY;
    const wasList = key === "list";
    state.viewKey = key;
    const main = $("#main");
    main.replaceChildren();

    if (key === "loading") {
      main.append(h("p", { class: "placeholder" }, t(state.statusFailed ? "loading.connecting" : "loading")));
    } else if (key === "flight") {
      main.append(buildFlightForm());
    } else if (key === "list") {
      state.listSig = "";
      main.append(buildList());
      updateList();
    } else {
      state.detailSig = "";
      state.selectedOutcome = null;
      if (!state.detail || state.detail.id !== r.id) state.detail = findListed(r.id);
      main.append(buildDetail());
      updateDetail();
      refreshDetail();
    }
    window.scrollTo(0, wasList ? state.listScroll : 0);
  }

  function findListed(id) {
    return (state.enquiries || []).find((e) => e.id === id) || null;
  }

  // ---------------------------------------------------------------------------
  // Open-your-flight form
  // ---------------------------------------------------------------------------

  function buildFlightForm() {
    const current = state.status && state.status.flight_id;
    const m = /^(.+)-(\d{4}-\d{2}-\d{2})$/.exec(current || "");
    const number = h("input", {
      id: "flight-number", name: "number", type: "text", required: true, autocomplete: "off",
      autocapitalize: "characters", spellcheck: "false", maxlength: "10", placeholder: t("flight.numberHint"),
      value: m ? m[1] : undefined, "aria-describedby": "flight-error",
    });
    const date = h("input", { id: "flight-date", name: "date", type: "date", required: true, value: m ? m[2] : todayISO() });
    const preview = h("p", { class: "flight-preview", "aria-live": "polite" });
    const error = h("p", { id: "flight-error", class: "form-error", role: "alert", hidden: true });
    const submit = h("button", { class: "btn btn-primary btn-big", type: "submit" }, t("flight.open"));

    const normalise = () => number.value.toUpperCase().replace(/\s+/g, "");
    const updatePreview = () => {
      const n = normalise();
      preview.textContent = n && date.value ? t("flight.preview", { id: n + "-" + date.value }) : "";
    };
    number.addEventListener("input", () => { error.hidden = true; updatePreview(); });
    date.addEventListener("input", () => { error.hidden = true; updatePreview(); });
    updatePreview();

    const form = h("form", { class: "panel flight-form", novalidate: true },
      h("h1", null, t(current ? "flight.changeTitle" : "flight.title")),
      h("p", { class: "muted" }, t("flight.intro")),
      h("label", { for: "flight-number" }, t("flight.number")),
      number,
      h("label", { for: "flight-date" }, t("flight.date")),
      date,
      preview,
      error,
      h("div", { class: "row" },
        submit,
        current ? h("button", {
          class: "btn btn-big", type: "button",
          onclick: () => { state.changingFlight = false; renderMain(); },
        }, t("flight.cancel")) : null));

    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const n = normalise();
      if (!/^[A-Z0-9]{2,3}[0-9]{1,5}[A-Z]?$/.test(n)) {
        error.textContent = t("flight.invalidNumber");
        error.hidden = false;
        return;
      }
      if (!/^\d{4}-\d{2}-\d{2}$/.test(date.value)) {
        error.textContent = t("flight.invalidDate");
        error.hidden = false;
        return;
      }
      submit.disabled = true;
      try {
        const res = await api("PUT", "/flight", { flight_id: n + "-" + date.value });
        const id = (res && res.flight_id) || n + "-" + date.value;
        state.status = Object.assign({}, state.status, { flight_id: id });
        state.enquiries = null;
        state.listSig = "";
        state.changingFlight = false;
        toast(t("flight.opened", { flight: id }), "ok");
        goList();
        renderHeader();
        renderMain();
        statusLoop();
        listLoop();
      } catch (e) {
        error.textContent = e.message;
        error.hidden = false;
        toast(e.message, "error");
      } finally {
        submit.disabled = false;
      }
    });
    setTimeout(() => { if (!m) number.focus(); }, 0);
    return form;
  }

  // ---------------------------------------------------------------------------
  // Enquiry list
  // ---------------------------------------------------------------------------

  function buildList() {
    return h("section", { class: "list", "aria-live": "polite" }, h("div", { id: "list-body" }));
  }

  function statusChip(status) {
    return h("span", { class: "chip chip-" + String(status || "unknown") }, t("status." + status));
  }

  function buildCard(e) {
    const seat = e.seat ? String(e.seat) : t("card.noSeat");
    return h("a", { class: "card card-" + String(e.status || ""), href: "#/e/" + encodeURIComponent(e.id) },
      h("div", { class: "card-top" },
        h("div", { class: "seat" },
          h("span", { class: "seat-label" }, t("card.seat")),
          h("span", { class: "seat-no" }, seat)),
        h("div", { class: "card-who" },
          h("div", { class: "pax" }, e.passenger_name || e.customer || t("card.unknownPassenger")),
          h("div", { class: "meta" },
            e.handle ? t("card.via", { handle: e.handle, channel: channelName(e.channel) }) : channelName(e.channel),
            e.received_at ? " · " : null,
            e.received_at ? timeEl(e.received_at, ago(e.received_at)) : null)),
        statusChip(e.status)),
      e.text ? h("blockquote", { class: "words", dir: "auto", lang: e.language || undefined }, e.text) : null,
      e.instructions ? h("div", { class: "instr" },
        h("span", { class: "instr-label" }, t("card.instructions")),
        h("p", { dir: "auto" }, e.instructions)) : null);
  }

  function updateList() {
    if (state.viewKey !== "list") return;
    const body = $("#list-body");
    if (!body) return;
    if (state.listError && state.lastListErrorToast !== state.listError.message) {
      state.lastListErrorToast = state.listError.message;
      toast(t("list.error", { message: state.listError.message }), "error");
    }
    // Re-render only when something changed (or once a minute for the "x min ago" texts),
    // so a tap on a card is never lost to a redraw.
    const sig = JSON.stringify(state.enquiries) + "|" + Math.floor(Date.now() / 60000) + "|" + (state.listError ? "err" : "");
    if (sig === state.listSig) return;
    state.listSig = sig;

    if (state.enquiries === null) {
      fill(body, h("p", { class: "placeholder" }, state.listError ? t("list.error", { message: state.listError.message }) : t("list.loading")));
      return;
    }
    if (state.enquiries.length === 0) {
      fill(body, h("div", { class: "empty" },
        h("p", { class: "empty-title" }, t("list.empty")),
        h("p", { class: "muted" }, t("list.emptyHint"))));
      return;
    }
    const todo = state.enquiries.filter((e) => OPEN_STATUSES.has(e.status));
    const done = state.enquiries.filter((e) => !OPEN_STATUSES.has(e.status));
    fill(body,
      todo.length ? h("h2", { class: "section-title" }, t("list.todo"), h("span", { class: "count" }, String(todo.length))) : null,
      todo.length ? h("div", { class: "cards" }, todo.map(buildCard)) : null,
      done.length ? h("h2", { class: "section-title" }, t("list.done"), h("span", { class: "count" }, String(done.length))) : null,
      done.length ? h("div", { class: "cards cards-done" }, done.map(buildCard)) : null);
  }

  // ---------------------------------------------------------------------------
  // Enquiry detail
  // ---------------------------------------------------------------------------

  function buildDetail() {
    const note = h("textarea", { id: "d-note", rows: "3", placeholder: t("detail.notePlaceholder"), dir: "auto" });
    note.addEventListener("input", updateButtons);

    const outcomeButtons = OUTCOMES.map((o) => h("button", {
      class: "outcome outcome-" + o, type: "button", "aria-pressed": "false", dataset: { outcome: o },
      onclick: () => {
        state.selectedOutcome = state.selectedOutcome === o ? null : o;
        updateButtons();
      },
    }, h("span", { class: "outcome-label" }, t("outcome." + o)), h("span", { class: "outcome-hint" }, t("outcomeHint." + o))));

    const chips = QUICK_NOTES.map((k) => h("button", {
      class: "quick", type: "button",
      onclick: () => {
        // Append without focusing: focusing would pop up the on-screen keyboard.
        const text = t(k);
        const cur = note.value.trim();
        note.value = cur ? cur.replace(/[.!?]?$/, (p) => (p || ".")) + " " + text + "." : text + ".";
        updateButtons();
      },
    }, t(k)));

    return h("section", { class: "detail" },
      h("button", { class: "btn back-btn", type: "button", onclick: goList }, "‹ ", t("detail.back")),
      h("div", { class: "detail-grid" },
        h("div", { id: "d-info", class: "d-info" }),
        h("div", { class: "d-actions" },
          h("div", { id: "d-closed", class: "notice", hidden: true }, t("detail.closed")),
          h("div", { id: "d-seen", class: "d-seen" }),
          h("section", { id: "d-outcome", class: "panel outcome-panel" },
            h("h2", { id: "d-outcome-title" }, t("detail.outcomeTitle")),
            h("div", { id: "d-resolution" }),
            h("div", { class: "outcomes" }, outcomeButtons),
            h("label", { for: "d-note", class: "note-label" }, t("detail.note")),
            note,
            h("div", { class: "quick-row", role: "group", "aria-label": t("detail.quickNotes") }, chips),
            h("div", { class: "row action-row" },
              h("button", { id: "d-save", class: "btn btn-primary btn-big", type: "button", onclick: saveOutcome }, t("detail.chooseOutcome")),
              h("button", { id: "d-addnote", class: "btn btn-big", type: "button", onclick: addNote }, t("detail.addNote"))))),
        h("section", { class: "panel d-notes" },
          h("h2", null, t("detail.notes")),
          h("div", { id: "d-notes" })),
        h("details", { class: "panel d-history" },
          h("summary", null, t("detail.history")),
          h("div", { id: "d-history" }))));
  }

  function updateDetail() {
    if (!state.viewKey.startsWith("detail:")) return;
    const e = state.detail;
    const info = $("#d-info");
    if (!info) return;
    if (!e) {
      fill(info, h("p", { class: "placeholder" }, t("loading")));
      updateButtons();
      return;
    }
    const sig = JSON.stringify(e) + "|" + Math.floor(Date.now() / 60000);
    if (sig !== state.detailSig) {
      state.detailSig = sig;
      renderDetailInfo(e);
    }
    updateButtons();
  }

  function renderDetailInfo(e) {
    fill($("#d-info"),
      h("div", { class: "d-head" },
        h("div", { class: "seat seat-xl" },
          h("span", { class: "seat-label" }, t("detail.seat")),
          h("span", { class: "seat-no" }, e.seat || t("card.noSeat"))),
        h("div", { class: "card-who" },
          h("h1", { class: "pax" }, e.passenger_name || e.customer || t("card.unknownPassenger")),
          h("div", { class: "meta" },
            e.handle ? t("card.via", { handle: e.handle, channel: channelName(e.channel) }) : channelName(e.channel),
            e.received_at ? " · " : null,
            e.received_at ? timeEl(e.received_at, t("detail.received", { time: ago(e.received_at) })) : null)),
        statusChip(e.status)),
      h("section", { class: "panel" },
        h("h2", null, t("detail.customerWords")),
        h("blockquote", { class: "words words-full", dir: "auto", lang: e.language || undefined }, e.text || "")),
      h("section", { class: "panel instr-panel" },
        h("h2", null, t("detail.instructions")),
        e.instructions ? h("p", { class: "instr-text", dir: "auto" }, e.instructions) : h("p", { class: "muted" }, t("detail.noInstructions"))));

    // Seen
    const seen = $("#d-seen");
    if (ACKABLE.has(e.status)) {
      fill(seen,
        h("button", { id: "d-ack", class: "btn btn-seen btn-huge", type: "button", onclick: ack }, "✓ ", t("detail.seen")),
        h("p", { class: "muted small" }, t("detail.seenHelp")));
    } else if (e.acknowledged) {
      fill(seen, h("p", { class: "seen-by" }, "✓ ",
        t("detail.seenBy", { by: byName(e.acknowledged.by), time: clock(e.acknowledged.at) })));
    } else {
      seen.replaceChildren();
    }

    // Outcome already recorded
    const res = e.resolution;
    $("#d-outcome-title").textContent = t(res ? "detail.changeOutcomeTitle" : "detail.outcomeTitle");
    fill($("#d-resolution"), res ? h("div", { class: "resolution resolution-" + String(res.outcome || "") },
      h("strong", null, t("detail.recorded", { outcome: t("outcome." + res.outcome) })),
      res.note ? h("p", { dir: "auto" }, res.note) : null,
      h("p", { class: "muted small" }, t("detail.recordedBy", { by: byName(res.by), time: clock(res.at) }))) : null);

    // Notes
    const notes = Array.isArray(e.notes) ? e.notes : [];
    fill($("#d-notes"), notes.length
      ? h("ul", { class: "notes" }, notes.map((n) => h("li", null,
        h("p", { dir: "auto" }, n.text || ""),
        h("p", { class: "muted small" }, byName(n.by), " · ", timeEl(n.at, clock(n.at))))))
      : h("p", { class: "muted" }, t("detail.noNotes")));

    // History
    const hist = Array.isArray(e.history) ? e.history : [];
    fill($("#d-history"), hist.length
      ? h("ol", { class: "history" }, hist.map((x) => {
        const applied = !x.effect || x.effect === "applied";
        return h("li", { class: applied ? "" : "not-applied" },
          h("span", { class: "h-time" }, timeEl(x.at, clock(x.at))),
          h("span", { class: "h-what" }, t("history." + x.kind) === "history." + x.kind ? String(x.kind || "") : t("history." + x.kind)),
          h("span", { class: "h-by muted" }, byName(x.by)),
          applied ? null : h("span", { class: "h-effect" }, t("history.effect." + x.effect) === "history.effect." + x.effect ? String(x.effect) : t("history.effect." + x.effect), x.reason ? ": " + x.reason : ""));
      }))
      : h("p", { class: "muted" }, t("detail.noHistory")));
  }

  function updateButtons() {
    const e = state.detail;
    const closed = !!e && e.status === "closed";
    const d = $("#d-closed");
    if (d) d.hidden = !closed;
    const panel = $("#d-outcome");
    if (panel) panel.hidden = closed;
    for (const b of document.querySelectorAll(".outcome")) {
      const on = b.dataset.outcome === state.selectedOutcome;
      b.setAttribute("aria-pressed", String(on));
      b.classList.toggle("selected", on);
      b.disabled = state.busy || !e || closed;
    }
    const save = $("#d-save");
    if (save) {
      save.textContent = state.selectedOutcome
        ? t("detail.saveOutcome", { outcome: t("outcome." + state.selectedOutcome) })
        : t("detail.chooseOutcome");
      save.disabled = state.busy || !e || closed || !state.selectedOutcome;
    }
    const add = $("#d-addnote");
    if (add) add.disabled = state.busy || !e || closed;
    const ackBtn = $("#d-ack");
    if (ackBtn) ackBtn.disabled = state.busy || !e;
    for (const q of document.querySelectorAll(".quick")) q.disabled = state.busy || !e || closed;
  }

  // Runs one action on the open enquiry; the answer is the updated enquiry.
  async function act(path, body, okMessage) {
    const e = state.detail;
    if (!e || state.busy) return false;
    state.busy = true;
    updateButtons();
    try {
      const updated = await api("POST", "/enquiries/" + encodeURIComponent(e.id) + path, body);
      if (updated && updated.id === e.id) {
        state.detail = updated;
        if (state.enquiries) state.enquiries = state.enquiries.map((x) => (x.id === updated.id ? updated : x));
        state.listSig = "";
      }
      toast(okMessage, "ok");
      statusLoop(); // "N actions waiting to send" changes at once
      return true;
    } catch (err) {
      toast(err.message, "error");
      return false;
    } finally {
      state.busy = false;
      updateDetail();
    }
  }

  function ack() {
    act("/ack", {}, t("toast.seen"));
  }

  async function addNote() {
    const note = $("#d-note");
    const text = note.value.trim();
    if (!text) { toast(t("detail.noteEmpty"), "info"); return; }
    if (await act("/notes", { text }, t("toast.noteAdded"))) note.value = "";
  }

  async function saveOutcome() {
    const outcome = state.selectedOutcome;
    if (!outcome) return;
    const note = $("#d-note");
    const ok = await act("/resolve", { outcome, note: note.value.trim() }, t("toast.outcomeSaved", { outcome: t("outcome." + outcome) }));
    if (ok) {
      note.value = "";
      state.selectedOutcome = null;
      updateButtons();
    }
  }

  // ---------------------------------------------------------------------------
  // Start
  // ---------------------------------------------------------------------------

  function translateStatic() {
    document.documentElement.lang = lang;
    document.title = t("app.title");
    for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  }

  // ---------------------------------------------------------------------------
  // Crew sign-in (minimal; the local API needs a crew token for everything
  // but the sync status). The tablet locks after the idle time the API
  // gives: the UI signs out itself, since its own polling would otherwise
  // keep the session alive.
  // ---------------------------------------------------------------------------

  const CREW_KEY = "cabincare.crew";
  let lastActivity = Date.now();

  function crewSession() {
    try { return JSON.parse(sessionStorage.getItem(CREW_KEY) || "null"); } catch (_) { return null; }
  }

  function showSignIn() {
    sessionStorage.removeItem(CREW_KEY);
    if (document.getElementById("signin")) return;
    const box = document.createElement("div");
    box.id = "signin";
    box.setAttribute("role", "dialog");
    box.setAttribute("aria-modal", "true");
    box.style.cssText = "position:fixed;inset:0;z-index:100;display:flex;align-items:center;justify-content:center;background:rgba(0,0,0,.85)";
    box.innerHTML =
      '<form style="display:flex;flex-direction:column;gap:12px;min-width:280px;padding:24px;border-radius:12px;background:#1b212b;color:#fff;font-size:20px">' +
      '<strong>Crew sign-in</strong>' +
      '<label>Staff number<br><input name="staff" autocomplete="username" required style="font-size:22px;width:100%"></label>' +
      '<label>PIN<br><input name="pin" type="password" inputmode="numeric" autocomplete="current-password" required style="font-size:22px;width:100%"></label>' +
      '<button type="submit" style="font-size:22px;padding:12px">Sign in</button>' +
      '<output name="msg" style="color:#ff8a80;min-height:1.4em"></output></form>';
    document.body.appendChild(box);
    const form = box.querySelector("form");
    form.staff.focus();
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      form.msg.value = "";
      try {
        const r = await api("POST", "/session", { staff_number: form.staff.value.trim(), pin: form.pin.value });
        sessionStorage.setItem(CREW_KEY, JSON.stringify({ token: r.token, name: r.name, staff: r.staff_number, idle: r.idle_timeout_seconds }));
        lastActivity = Date.now();
        box.remove();
        statusLoop();
        listLoop();
      } catch (e) {
        form.pin.value = "";
        form.msg.value = e.message;
      }
    });
  }

  function watchIdle() {
    for (const ev of ["pointerdown", "keydown", "touchstart"]) {
      document.addEventListener(ev, () => { lastActivity = Date.now(); }, { passive: true, capture: true });
    }
    setInterval(() => {
      const crew = crewSession();
      if (crew && Date.now() - lastActivity > (crew.idle || 600) * 1000) {
        api("DELETE", "/session").catch(() => {});
        showSignIn();
      }
    }, 5000);
  }

  function start() {
    if (!crewSession()) showSignIn();
    watchIdle();
    translateStatic();
    applyTheme(savedTheme());
    $("#theme-btn").addEventListener("click", toggleTheme);
    $("#sync-badge").addEventListener("click", toggleSyncDetails);
    $("#flight-btn").addEventListener("click", () => {
      state.changingFlight = true;
      renderMain();
    });
    window.addEventListener("hashchange", () => {
      if (state.changingFlight) state.changingFlight = false;
      renderMain();
    });
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) { statusLoop(); listLoop(); }
    });
    document.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape") {
        if (!$("#sync-details").hidden) toggleSyncDetails();
        else if (route().name === "detail") goList();
      }
    });
    renderHeader();
    renderMain();
    statusLoop();
    listLoop();
  }

  // Apply the theme before the first paint (this script is loaded in <head>).
  document.documentElement.setAttribute("data-theme", savedTheme());
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();

  window.CabinCrew = Object.freeze({
    t,
    strings: STRINGS,
    state,
    refresh() { statusLoop(); listLoop(); },
  });
})();
