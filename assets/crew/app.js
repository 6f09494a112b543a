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

  const { $, h, fill, ApiError } = window.CabinUI;
  const { STRINGS, LANGUAGES } = window.CabinCrewI18n;
  const LANG_KEY = "cabincare.crew.lang";
  const TOKEN_KEY = "cabincare.crew.token";
  const LOCK_AFTER_MS = 10 * 60 * 1000; // a signed-in tablet locks after this long untouched
  const local = window.CabinUI.store("localStorage");
  const session = window.CabinUI.store("sessionStorage");

  // ---------------------------------------------------------------------------
  // Language: the one picked on this tablet, else the browser's, else English.
  // ---------------------------------------------------------------------------

  function pickLanguage() {
    const saved = local.getItem(LANG_KEY);
    if (saved && STRINGS[saved]) return saved;
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

  const CHANNELS = {
    twitter: "X (Twitter)", x: "X (Twitter)", facebook: "Facebook", messenger: "Messenger", instagram: "Instagram",
    whatsapp: "WhatsApp", wechat: "WeChat", youtube: "YouTube", reddit: "Reddit", snapchat: "Snapchat", email: "E-mail",
  };

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

  const clock = (iso) => window.CabinUI.clock(iso, lang);
  const fullTime = (iso) => window.CabinUI.fullTime(iso, lang);

  // A <time> element showing a short text with the exact moment on hover/long-press.
  function timeEl(iso, text) {
    return h("time", { datetime: iso || undefined, title: fullTime(iso) || undefined }, text);
  }

  function channelName(ch) {
    return CHANNELS[String(ch || "").toLowerCase()] || String(ch || "");
  }

  function byName(by) {
    const s = String(by || "");
    if (!s) return t("by.unknown");
    const i = s.indexOf(":");
    if (i > 0) {
      const kind = s.slice(0, i);
      let name = s.slice(i + 1);
      // A tablet without a crew sign-in acts as its device id: a short form reads better.
      if (/^[0-9a-f]{8}-[0-9a-f-]{27}$/i.test(name)) name = name.slice(0, 8);
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
  const QUICK_NOTES = ["quick.servedFirst", "quick.apologised", "quick.drink", "quick.thanked", "quick.notFound", "quick.followUp"];

  // ---------------------------------------------------------------------------
  // API
  // ---------------------------------------------------------------------------

  // Every call goes through the shared wrapper. The bearer token is there
  // once the cabin asks for a crew sign-in (a 401 shows the keypad).
  const api = window.CabinUI.client({
    base: API,
    timeoutMs: REQUEST_TIMEOUT_MS,
    token: () => session.getItem(TOKEN_KEY) || "",
    text: (code, status) => code === "timeout" ? t("error.timeout") : code === "network" ? t("error.network") : t("error.http", { status }),
    onUnauthorized: () => lock(false),
  });

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
    seatSig: "",
    locked: false,
    lockedByTimer: false,
  };

  // ---------------------------------------------------------------------------
  // Polling loops: one request at a time each, paused while the page is hidden.
  // ---------------------------------------------------------------------------

  const makeLoop = (fn, ms) => window.CabinUI.makeLoop(fn, ms, () => !state.locked);

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
    const saved = local.getItem(THEME_KEY);
    if (saved === "light" || saved === "dark") return saved;
    // Nothing picked on this tablet: follow the system (dark unless it asks for light).
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: light)").matches ? "light" : "dark";
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
    local.setItem(THEME_KEY, next);
    applyTheme(next);
  }

  // ---------------------------------------------------------------------------
  // Toasts
  // ---------------------------------------------------------------------------

  function toast(message, kind) {
    window.CabinUI.toast(message, kind, t("toast.dismiss"));
  }

  // ---------------------------------------------------------------------------
  // Routing: "#/" is the list, "#/e/<id>" an enquiry.
  // ---------------------------------------------------------------------------

  function route() {
    if (location.hash === "#/seats") return { name: "seats", id: null };
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
    if (state.locked) key = "signin";
    else if (!state.status) key = "loading";
    else if (!state.status.flight_id || state.changingFlight) key = "flight";
    else if (r.name === "detail") key = "detail:" + r.id;
    else if (r.name === "seats") key = "seats";
    else key = "list";
    renderNav(key);
    if (key === state.viewKey) return;

    if (state.viewKey === "list") state.listScroll = window.scrollY;
    const wasList = key === "list";
    state.viewKey = key;
    const main = $("#main");
    main.replaceChildren();

    if (key === "signin") {
      main.append(buildSignIn());
    } else if (key === "seats") {
      state.seatSig = "";
      main.append(h("section", { class: "seatmap-view" }, h("div", { id: "seatmap-body" })));
      updateSeatMap();
    } else if (key === "loading") {
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
        h("div", { class: "card-badges" },
          statusChip(e.status),
          e.flagged ? h("span", { class: "chip chip-flagged" }, t("card.flagged")) : null)),
      e.text ? h("blockquote", { class: "words", dir: "auto", lang: e.language || undefined }, latestWords(e)) : null,
      e.instructions ? h("div", { class: "instr" },
        h("span", { class: "instr-label" }, t("card.instructions")),
        h("p", { dir: "auto" }, e.instructions)) : null,
      lastActivity(e));
  }

  // latestWords: the passenger's newest message (what crew should read
  // first), or the first one.
  function latestWords(e) {
    const msgs = Array.isArray(e.messages) ? e.messages : [];
    return msgs.length ? msgs[msgs.length - 1].text || e.text : e.text;
  }

  // lastActivity: the latest thing someone did on board or on the ground, so
  // a colleague's action shows in the list as soon as it syncs.
  function lastActivity(e) {
    const acts = [];
    if (e.acknowledged) acts.push({ what: t("history.ack"), by: e.acknowledged.by, at: e.acknowledged.at });
    if (e.resolution) acts.push({ what: t("outcome." + e.resolution.outcome), by: e.resolution.by, at: e.resolution.at });
    for (const n of Array.isArray(e.notes) ? e.notes : []) acts.push({ what: t("history.note"), by: n.by, at: n.at });
    if (!acts.length) return null;
    acts.sort((a, b) => String(a.at).localeCompare(String(b.at)));
    const last = acts[acts.length - 1];
    return h("p", { class: "last-act muted small" }, t("card.lastBy", { what: last.what, by: byName(last.by) }), " · ", timeEl(last.at, ago(last.at)));
  }

  function updateList() {
    if (state.viewKey === "seats") updateSeatMap();
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
  // Seat map: the cabin drawn from the seats the flight's enquiries name, on
  // a default narrow-body (ABC DEF) or wide-body (ABC DEFG HJK) layout.
  // ---------------------------------------------------------------------------

  const NARROW = { blocks: [["A", "B", "C"], ["D", "E", "F"]], rows: 30 };
  const WIDE = { blocks: [["A", "B", "C"], ["D", "E", "F", "G"], ["H", "J", "K"]], rows: 40 };

  function parseSeat(seat) {
    const m = /^\s*(\d{1,3})\s*([A-Z])\s*$/i.exec(String(seat || ""));
    return m ? { row: Number(m[1]), letter: m[2].toUpperCase() } : null;
  }

  // cabinLayout picks the default layout that holds every seen seat letter,
  // adds any letter it lacks as an extra block, and runs to the last seen row.
  function cabinLayout(seats) {
    const letters = new Set(seats.map((s) => s.letter));
    const wide = [...letters].some((l) => l >= "G");
    const base = wide ? WIDE : NARROW;
    const known = new Set(base.blocks.flat());
    const extra = [...letters].filter((l) => !known.has(l)).sort();
    const blocks = extra.length ? base.blocks.concat([extra]) : base.blocks;
    const maxRow = seats.reduce((m, s) => Math.max(m, s.row), 0);
    return { blocks, rows: Math.max(base.rows, maxRow) };
  }

  function updateSeatMap() {
    const body = $("#seatmap-body");
    if (!body) return;
    const list = state.enquiries || [];
    const sig = JSON.stringify(list.map((e) => [e.id, e.seat, e.status, e.passenger_name, e.flagged]));
    if (sig === state.seatSig) return;
    state.seatSig = sig;

    const bySeat = new Map();
    const noSeat = [];
    for (const e of list) {
      const p = parseSeat(e.seat);
      if (!p) { noSeat.push(e); continue; }
      const key = p.row + p.letter;
      const open = OPEN_STATUSES.has(e.status);
      const cur = bySeat.get(key);
      // One seat, several enquiries: show the one that still needs doing.
      if (!cur || (open && !OPEN_STATUSES.has(cur.status))) bySeat.set(key, e);
    }
    const layout = cabinLayout([...bySeat.keys()].map(parseSeat));
    const cols = ["row"];
    layout.blocks.forEach((b, i) => { if (i) cols.push("aisle"); cols.push(...b); });

    const cells = [h("div", { class: "sm-head" }), ...cols.slice(1).map((c) => h("div", { class: c === "aisle" ? "sm-aisle" : "sm-head" }, c === "aisle" ? "" : c))];
    for (let r = 1; r <= layout.rows; r++) {
      cells.push(h("div", { class: "sm-row" }, String(r)));
      for (const c of cols.slice(1)) {
        if (c === "aisle") { cells.push(h("div", { class: "sm-aisle" })); continue; }
        const e = bySeat.get(r + c);
        if (!e) { cells.push(h("div", { class: "sm-seat", title: t("seatmap.free") })); continue; }
        const open = OPEN_STATUSES.has(e.status);
        cells.push(h("a", {
          class: "sm-seat sm-has " + (open ? "sm-open" : "sm-done") + (e.flagged ? " sm-flagged" : ""),
          href: "#/e/" + encodeURIComponent(e.id),
          "aria-label": t("seatmap.seat", { seat: r + c, name: e.passenger_name || e.customer || t("card.unknownPassenger") }),
          title: e.passenger_name || "",
          dataset: { seat: r + c },
        }, r + c));
      }
    }
    fill(body,
      h("div", { class: "sm-top" },
        h("h1", null, t("seatmap.title")),
        h("div", { class: "sm-legend" },
          h("span", null, h("i", { class: "sm-key sm-open" }), t("seatmap.open")),
          h("span", null, h("i", { class: "sm-key sm-done" }), t("seatmap.done")),
          h("span", null, h("i", { class: "sm-key sm-done sm-flagged" }), t("card.flagged")),
          h("span", null, h("i", { class: "sm-key" }), t("seatmap.free")))),
      list.length ? null : h("p", { class: "muted" }, t("seatmap.empty")),
      h("div", { class: "seatmap", style: "grid-template-columns: 2.2rem " + cols.slice(1).map((c) => c === "aisle" ? "1.2rem" : "minmax(44px, 1fr)").join(" ") }, cells),
      noSeat.length ? h("section", { class: "panel" },
        h("h2", null, t("seatmap.noSeat")),
        h("div", { class: "cards" }, noSeat.map(buildCard))) : null);
  }

  // ---------------------------------------------------------------------------
  // Crew sign-in: shown when the cabin service asks for it (a 401), and after
  // a signed-in tablet has not been touched for LOCK_AFTER_MS.
  // ---------------------------------------------------------------------------

  function lock(byTimer) {
    session.removeItem(TOKEN_KEY);
    if (state.locked) return;
    state.locked = true;
    state.lockedByTimer = !!byTimer;
    state.enquiries = null;
    state.detail = null;
    renderMain();
    renderHeader();
  }

  function buildSignIn() {
    const staff = h("input", { id: "signin-staff", type: "text", inputmode: "numeric", autocomplete: "username", required: true });
    const pin = h("input", { id: "signin-pin", type: "password", inputmode: "none", readonly: true, autocomplete: "current-password" });
    const error = h("p", { class: "form-error", role: "alert", hidden: true });
    const press = (d) => { pin.value = (pin.value + d).slice(0, 8); error.hidden = true; };
    const keys = ["1", "2", "3", "4", "5", "6", "7", "8", "9"].map((d) => h("button", { type: "button", class: "key", onclick: () => press(d) }, d));
    keys.push(h("button", { type: "button", class: "key key-fn", onclick: () => { pin.value = ""; } }, t("signin.clear")));
    keys.push(h("button", { type: "button", class: "key", onclick: () => press("0") }, "0"));
    keys.push(h("button", { type: "button", class: "key key-fn", onclick: () => { pin.value = pin.value.slice(0, -1); } }, t("signin.delete")));
    const form = h("form", { class: "panel signin-form", novalidate: true },
      h("h1", null, t("signin.title")),
      h("p", { class: "muted" }, state.lockedByTimer ? t("signin.locked") : t("signin.intro")),
      h("label", { for: "signin-staff" }, t("signin.staff")), staff,
      h("label", { for: "signin-pin" }, t("signin.pin")), pin,
      h("div", { class: "keypad" }, keys),
      error,
      h("button", { class: "btn btn-primary btn-big", type: "submit" }, t("signin.submit")));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      try {
        const res = await api("POST", "/session", { staff_number: staff.value.trim(), pin: pin.value });
        if (!res || !res.token) throw new ApiError("unauthorized", t("signin.failed"), 401);
        session.setItem(TOKEN_KEY, res.token);
        state.locked = false;
        state.lockedByTimer = false;
        touch();
        renderMain();
        statusLoop();
        listLoop();
      } catch (e) {
        state.locked = true; // a 401 here is a wrong PIN, not a reason to re-render
        error.textContent = e.status === 401 || e.status === 403 ? t("signin.failed") : e.message;
        error.hidden = false;
        pin.value = "";
      }
    });
    return form;
  }

  let idleTimer = null;
  // touch restarts the inactivity clock; only a signed-in tablet locks.
  function touch() {
    clearTimeout(idleTimer);
    if (session.getItem(TOKEN_KEY)) idleTimer = setTimeout(() => lock(true), LOCK_AFTER_MS);
  }

  function renderNav(key) {
    const nav = $("#views");
    if (!nav) return;
    nav.hidden = key === "signin" || key === "flight" || key === "loading";
    $("#nav-list").toggleAttribute("aria-current", key === "list" || key.startsWith("detail:"));
    $("#nav-seats").toggleAttribute("aria-current", key === "seats");
    $("#lock-btn").hidden = !session.getItem(TOKEN_KEY);
  }

  function setupLanguagePicker() {
    const sel = $("#lang-select");
    for (const [code, name] of Object.entries(LANGUAGES)) sel.append(h("option", { value: code, selected: code === lang }, name));
    sel.setAttribute("aria-label", t("header.language"));
    sel.addEventListener("change", () => {
      local.setItem(LANG_KEY, sel.value);
      location.reload(); // every text, date and plural follows the new language
    });
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
      e.flagged ? h("p", { class: "notice notice-flagged", role: "status" }, t("detail.flagged")) : null,
      h("section", { class: "panel" },
        h("h2", null, t("detail.customerWords")),
        h("blockquote", { class: "words words-full", dir: "auto", lang: e.language || undefined }, e.text || ""),
        thread(e)),
      h("section", { class: "panel instr-panel" },
        h("h2", null, t("detail.instructions")),
        e.instructions ? h("p", { class: "instr-text", dir: "auto" }, e.instructions) : h("p", { class: "muted" }, t("detail.noInstructions")),
        groundNotes(e)),
      replies(e));

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

  // thread: the passenger's later messages, oldest first (the first one is
  // the enquiry's text).
  function thread(e) {
    const msgs = (Array.isArray(e.messages) ? e.messages : []).filter((m) => m.text && m.text !== e.text);
    if (!msgs.length) return null;
    return h("div", { class: "thread" },
      h("h3", null, t("detail.thread")),
      h("ol", { class: "msgs" }, msgs.map((m) => h("li", null,
        h("p", { dir: "auto", lang: e.language || undefined }, m.text),
        h("p", { class: "muted small" }, timeEl(m.at, clock(m.at)))))));
  }

  function replies(e) {
    const rs = Array.isArray(e.replies) ? e.replies : [];
    if (!rs.length) return null;
    return h("section", { class: "panel" },
      h("h2", null, t("detail.replies")),
      h("ol", { class: "msgs msgs-reply" }, rs.map((r) => h("li", null,
        h("p", { dir: "auto" }, r.text || ""),
        h("p", { class: "muted small" }, byName(r.by), " · ", timeEl(r.at, clock(r.at)))))));
  }

  // groundNotes: what agents wrote on the enquiry, next to the instructions.
  function groundNotes(e) {
    const ns = (Array.isArray(e.notes) ? e.notes : []).filter((n) => String(n.by || "").startsWith("agent:"));
    if (!ns.length) return null;
    return h("div", { class: "ground-notes" },
      h("h3", null, t("detail.groundNotes")),
      ns.map((n) => h("p", { dir: "auto" }, n.text || "")));
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

  function start() {
    translateStatic();
    applyTheme(savedTheme());
    $("#theme-btn").addEventListener("click", toggleTheme);
    setupLanguagePicker();
    // Locking ends the session on the cabin too (DELETE /session), so the
    // token is worth nothing even if it were copied.
    $("#lock-btn").addEventListener("click", () => {
      if (session.getItem(TOKEN_KEY)) api("DELETE", "/session").catch(() => {});
      lock(false);
    });
    $("#lock-btn").setAttribute("aria-label", t("header.lock"));
    for (const ev of ["pointerdown", "keydown"]) document.addEventListener(ev, touch, { passive: true });
    if (window.matchMedia) {
      window.matchMedia("(prefers-color-scheme: light)").addEventListener("change", () => applyTheme(savedTheme()));
    }
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
    lang,
    state,
    refresh() { statusLoop(); listLoop(); },
  });
})();
