// Fanfare Emulator dashboard: a dependency-free single-page app (uPlot vendored for charts). It reads and acts only
// through the control plane (/_emulator/*) and the admin API of the organization picked at the top.
"use strict";

const state = {
  orgs: [], org: null, info: null, clock: null, clockFetchedAt: 0, timers: [], page: null,
};

// ------------------------------------------------------------------ helpers
const $ = (sel, root = document) => root.querySelector(sel);
const h = (tag, attrs = {}, ...children) => {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "text") el.textContent = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
};
const esc = (s) => String(s ?? "");
function toast(text) { const t = $("#toast"); t.textContent = text; t.classList.add("show"); clearTimeout(t._h); t._h = setTimeout(() => t.classList.remove("show"), 1800); }

async function api(path, { method = "GET", body, admin = false } = {}) {
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (admin && state.org) headers["Authorization"] = "Bearer " + state.org.secretKey;
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json = null; try { json = text ? JSON.parse(text) : null; } catch { json = text; }
  if (!res.ok) { const err = new Error((json && json.error) || res.statusText); err.status = res.status; err.body = json; throw err; }
  return json;
}
const admin = (path, opts = {}) => api("/api/v1" + path, { ...opts, admin: true });
async function tryApi(fn) { try { return await fn(); } catch (e) { toast("Error: " + e.message); console.warn(e); return null; } }

function copyButton(value, label = "Copy") {
  return h("button", { type: "button", "aria-label": label + " " + value, onclick: async () => {
    try { await navigator.clipboard.writeText(value); } catch { /* clipboard may be unavailable (http, headless) */ }
    toast("Copied");
  } }, label);
}
function every(ms, fn) { fn(); const id = setInterval(fn, ms); state.timers.push(id); return id; }

// The emulator's "now", ticking locally between fetches when the clock runs on system time or an offset.
function emulatorNow() {
  if (!state.clock) return new Date();
  const base = Date.parse(state.clock.now);
  return new Date(state.clock.mode === "frozen" ? base : base + (Date.now() - state.clockFetchedAt));
}
async function refreshClock() {
  const c = await api("/_emulator/clock").catch(() => null);
  if (c) { state.clock = c; state.clockFetchedAt = Date.now(); }
  return c;
}
const iso = (d) => d.toISOString().replace(/\.\d{3}Z$/, (m) => m);
function countdown(untilIso) {
  if (!untilIso) return "";
  const ms = Date.parse(untilIso) - emulatorNow().getTime();
  if (ms <= 0) return "expired";
  const s = Math.floor(ms / 1000); const m = Math.floor(s / 60);
  return m > 0 ? `${m}m ${s % 60}s` : `${s}s`;
}
function badge(text) {
  const t = String(text ?? "").toUpperCase();
  const cls = /GRANTED|WON|WINNING|DELIVERED|OPEN|COMPLETED|READY|OK/.test(t) ? "ok" : /DENIED|FAILED|EXPIRED|CLOSED|LOST|CANCEL/.test(t) ? "bad" : "warn";
  return h("span", { class: "badge " + cls }, text ?? "—");
}

// ------------------------------------------------------------------ shell
const pages = {};
function route() {
  for (const id of state.timers) clearInterval(id);
  state.timers = [];
  const [, name = "overview", ...rest] = (location.hash || "#/overview").split("/");
  const page = pages[name] ? name : "overview";
  state.page = page;
  for (const a of document.querySelectorAll("nav.side a[data-page]")) {
    if (a.dataset.page === page) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
  const main = $("#main");
  main.replaceChildren();
  main.dataset.page = page;
  Promise.resolve(pages[page](main, rest.map(decodeURIComponent))).catch((e) => { main.append(h("p", { class: "bad" }, "Could not load: " + e.message)); console.warn(e); });
}

async function boot() {
  const dark = localStorage.getItem("fanfare.theme") ?? (matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light");
  document.documentElement.classList.toggle("dark", dark === "dark");
  $("#theme-toggle").addEventListener("click", () => {
    const on = !document.documentElement.classList.contains("dark");
    document.documentElement.classList.toggle("dark", on);
    localStorage.setItem("fanfare.theme", on ? "dark" : "light");
  });
  const [info, orgs] = await Promise.all([api("/_emulator/info").catch(() => null), api("/_emulator/organizations")]);
  state.info = info;
  state.orgs = orgs.organizations || [];
  $("#version").textContent = info ? "v" + info.version : "";
  const sel = $("#org-select");
  const saved = localStorage.getItem("fanfare.org");
  for (const o of state.orgs) sel.append(h("option", { value: o.organizationId }, o.name));
  state.org = state.orgs.find((o) => o.organizationId === saved) || state.orgs[0] || null;
  if (state.org) sel.value = state.org.organizationId;
  sel.addEventListener("change", () => {
    state.org = state.orgs.find((o) => o.organizationId === sel.value);
    localStorage.setItem("fanfare.org", sel.value);
    route();
  });
  // The request journal page shows only when the emulator has one.
  $("#nav-requests").hidden = !info?.features?.requests;
  await refreshClock();
  setInterval(refreshClock, 5000);
  setInterval(() => { const c = $("#clock-chip"); c.textContent = (state.clock?.mode === "frozen" ? "❄ " : "") + emulatorNow().toISOString().slice(0, 19).replace("T", " ") + " UTC"; }, 250);
  addEventListener("hashchange", route);
  route();
}

// ------------------------------------------------------------------ overview
pages.overview = async (main) => {
  main.append(h("h1", {}, "Overview"));
  const health = await api("/_emulator/health").catch((e) => ({ status: "not ready (" + e.status + ")" }));
  const info = state.info;
  const host = location.hostname;
  const ports = info?.ports ?? { admin: location.port, consumer: 4802, beacon: 4803, checkout: 4805 };
  main.append(h("div", { class: "grid2" },
    h("section", { class: "panel", "aria-labelledby": "ov-emu" },
      h("h2", { id: "ov-emu" }, "Emulator"),
      h("table", {}, h("tbody", {},
        h("tr", {}, h("th", {}, "Health"), h("td", {}, badge(health.status))),
        h("tr", {}, h("th", {}, "Version"), h("td", {}, info?.version ?? "?")),
        h("tr", {}, h("th", {}, "Store"), h("td", {}, info ? (info.store.inMemory ? "in memory" : h("code", {}, info.store.dataDirectory)) : "?")),
        ...Object.entries(ports).map(([k, v]) => h("tr", {}, h("th", {}, k + " API"),
          h("td", {}, h("code", {}, `http://${host}:${v}`), " ", h("a", { href: `http://${host}:${v}/_emulator/reference` }, "reference"))))))),
    h("section", { class: "panel", "aria-labelledby": "ov-sdk" },
      h("h2", { id: "ov-sdk" }, "Point an SDK or backend at it"),
      h("pre", {}, [
        `FANFARE_ADMIN_API_URL=http://${host}:${ports.admin}/api`,
        `FANFARE_CONSUMER_API_URL=http://${host}:${ports.consumer}/api`,
        `FANFARE_BEACON_API_URL=http://${host}:${ports.beacon}/api`,
        `FANFARE_CHECKOUT_API_URL=http://${host}:${ports.checkout}/api`,
        state.org ? `FANFARE_PUBLISHABLE_KEY=${state.org.publishableKey}` : "",
        state.org ? `FANFARE_SECRET_KEY=${state.org.secretKey}` : "",
      ].filter(Boolean).join("\n")),
      h("div", { class: "row" }, h("button", { type: "button", onclick: async () => { await api("/_emulator/reset", { method: "POST" }); toast("Reset to the seed"); route(); } }, "Reset emulator")))));
  const orgs = h("section", { class: "panel", "aria-labelledby": "ov-orgs" }, h("h2", { id: "ov-orgs" }, "Organizations and their well-known keys"));
  for (const o of state.orgs) {
    const rows = [["Organization id", o.organizationId], ["Publishable key (test)", o.publishableKey], ["Secret key (test)", o.secretKey],
      ["Publishable key (live)", o.livePublishableKey], ["Secret key (live)", o.liveSecretKey], ["Webhook secret", o.webhookSecret]].filter((r) => r[1]);
    orgs.append(h("h3", {}, o.name), h("table", {}, h("tbody", {}, rows.map(([k, v]) => h("tr", {}, h("th", {}, k), h("td", {}, h("code", {}, v), " ", copyButton(v)))))));
  }
  main.append(orgs);
  const sandboxes = state.info?.features?.sandboxes ? await api("/_emulator/sandboxes").catch(() => null) : null;
  if (sandboxes) {
    const list = sandboxes.sandboxes ?? sandboxes.data ?? [];
    main.append(h("section", { class: "panel" }, h("h2", {}, "Sandboxes"),
      list.length ? h("ul", {}, list.map((s) => h("li", {}, h("strong", {}, s.name ?? s.id), " ", h("code", {}, s.id)))) : h("p", { class: "muted" }, "None.")));
  }
};

// ------------------------------------------------------------------ clock
pages.clock = async (main) => {
  main.append(h("h1", {}, "Clock"));
  const now = h("div", { class: "big-clock", id: "clock-now", "aria-live": "off" });
  const mode = h("span", { id: "clock-mode" });
  const offset = h("span", { class: "muted" });
  const presets = [["+1 min", 60], ["+10 min", 600], ["+1 h", 3600], ["+1 day", 86400], ["+30 days", 2592000]];
  const advance = async (seconds) => {
    const c = await tryApi(() => api("/_emulator/clock/advance", { method: "POST", body: { seconds } }));
    if (c) { state.clock = c; state.clockFetchedAt = Date.now(); toast(`Advanced ${seconds} s`); await render(); }
  };
  const durationInput = h("input", { id: "advance-duration", placeholder: "PT90M or seconds", "aria-label": "Duration to advance (ISO 8601 or seconds)", size: 16 });
  const setInput = h("input", { id: "set-instant", type: "text", placeholder: "2030-01-01T09:00:00Z", "aria-label": "Instant to set the clock to", size: 26 });
  main.append(h("section", { class: "panel" },
    now, h("div", { class: "row" }, "Mode: ", mode, offset),
    h("div", { class: "row", role: "group", "aria-label": "Clock controls" },
      h("button", { type: "button", id: "freeze", onclick: async () => { await tryApi(() => api("/_emulator/clock/freeze", { method: "POST", body: {} })); await render(); } }, "Freeze"),
      h("button", { type: "button", id: "system-time", onclick: async () => { await tryApi(() => api("/_emulator/clock/reset", { method: "POST" })); await render(); } }, "Back to system time"),
      ...presets.map(([label, s]) => h("button", { type: "button", class: "primary", "data-seconds": s, onclick: () => advance(s) }, label))),
    h("form", { class: "row", onsubmit: async (e) => {
      e.preventDefault();
      const v = durationInput.value.trim(); if (!v) return;
      const body = /^\d+(\.\d+)?$/.test(v) ? { seconds: Number(v) } : { duration: v };
      const c = await tryApi(() => api("/_emulator/clock/advance", { method: "POST", body })); if (c) { toast("Advanced"); await render(); }
    } }, h("label", { for: "advance-duration" }, "Advance by"), durationInput, h("button", { type: "submit" }, "Advance")),
    h("form", { class: "row", onsubmit: async (e) => {
      e.preventDefault();
      const v = setInput.value.trim(); if (!v) return;
      const c = await tryApi(() => api("/_emulator/clock/set", { method: "POST", body: { now: v } })); if (c) { toast("Clock set"); await render(); }
    } }, h("label", { for: "set-instant" }, "Set to"), setInput, h("button", { type: "submit" }, "Set"))));
  const jobsPanel = h("section", { class: "panel", "aria-labelledby": "jobs-h" });
  main.append(jobsPanel);
  async function render() {
    await refreshClock();
    mode.replaceChildren(badge(state.clock?.mode));
    offset.textContent = state.clock?.offsetSeconds ? ` offset ${state.clock.offsetSeconds} s` : "";
    const jobs = await api("/_emulator/jobs?limit=20").catch(() => null);
    jobsPanel.replaceChildren(h("h2", { id: "jobs-h" }, "Next scheduled work"));
    if (!jobs) { jobsPanel.append(h("p", { class: "muted" }, "Unavailable.")); return; }
    jobsPanel.append(h("p", { class: "muted" }, `${jobs.pending} pending; an advance runs everything due on the way, in time order.`));
    if (jobs.jobs.length) jobsPanel.append(h("table", { id: "jobs" }, h("thead", {}, h("tr", {}, h("th", {}, "Due (UTC)"), h("th", {}, "In"), h("th", {}, "Kind"), h("th", {}, "Job"))),
      h("tbody", {}, jobs.jobs.map((j) => h("tr", {}, h("td", { class: "mono" }, j.dueAt), h("td", {}, countdown(j.dueAt) || "due"), h("td", {}, h("code", {}, j.kind)), h("td", { class: "mono muted" }, j.id))))));
  }
  every(250, () => { now.textContent = emulatorNow().toISOString().replace("T", " ").replace("Z", " UTC"); });
  await render();
  every(3000, render);
};

// ------------------------------------------------------------------ inbox & SMS
pages.inbox = async (main) => {
  main.append(h("h1", {}, "Inbox & SMS"));
  const filter = h("input", { id: "recipient-filter", type: "search", placeholder: "address or +number", "aria-label": "Filter by recipient" });
  const list = h("div", { id: "messages", "aria-live": "polite" });
  let channel = "inbox";
  const tabs = h("div", { class: "row", role: "tablist" },
    ...[["inbox", "Email"], ["sms", "SMS"]].map(([c, label]) => h("button", { type: "button", role: "tab", id: "tab-" + c, "aria-selected": String(c === channel), onclick: () => {
      channel = c; for (const b of tabs.querySelectorAll("button")) b.setAttribute("aria-selected", String(b.id === "tab-" + c)); render();
    } }, label)));
  main.append(h("section", { class: "panel" }, tabs,
    h("div", { class: "row" }, h("label", { for: "recipient-filter" }, "Recipient"), filter,
      h("button", { type: "button", id: "clear-messages", onclick: async () => { await tryApi(() => api(`/_emulator/${channel}`, { method: "DELETE" })); render(); } }, "Clear")),
    list));
  filter.addEventListener("input", () => render());
  let last = "";
  async function render() {
    const to = filter.value.trim();
    const res = await api(`/_emulator/${channel}` + (to ? "?to=" + encodeURIComponent(to) : "")).catch(() => ({ messages: [] }));
    const msgs = res.messages || [];
    const key = channel + to + msgs.map((m) => m.id).join();
    if (key === last) return; last = key;
    list.replaceChildren(...(msgs.length ? msgs.map((m) => h("article", { class: "msg", "data-id": m.id },
      h("div", {},
        h("div", {}, h("strong", {}, m.subject ?? m.body ?? ""), " "),
        h("div", { class: "muted" }, "to ", h("span", { class: "recipient" }, m.to), " · from ", m.from, " · ", m.sentAt),
        m.relay ? h("div", { class: "muted" }, "relay: ", badge(m.relay.status), m.relay.error ? " " + m.relay.error : "") : null,
        m.text ? h("details", {}, h("summary", {}, "Text"), h("pre", {}, m.text)) : null,
        channel === "inbox" ? h("a", { href: `/_emulator/inbox/${encodeURIComponent(m.id)}/raw`, download: m.id + ".eml" }, "Download .eml") : null),
      m.code ? h("div", { class: "code-box" }, h("div", { class: "big-code otp", "aria-label": "One-time code" }, m.code), copyButton(m.code, "Copy code")) : h("div"))) :
      [h("p", { class: "muted" }, "Nothing sent yet. Sign a consumer in (POST /auth/otp/request) and the message appears here.")]));
  }
  every(1500, render);
};

// ------------------------------------------------------------------ experiences
pages.experiences = async (main, [distId]) => {
  main.append(h("h1", {}, "Experiences"));
  if (!state.org) { main.append(h("p", {}, "No organization.")); return; }
  const tree = h("section", { class: "panel tree", "aria-label": "Experiences, sequences and distributions" });
  const detail = h("section", { class: "panel", id: "distribution-detail", "aria-live": "polite" }, h("p", { class: "muted" }, "Pick a distribution."));
  main.append(h("div", { class: "split" }, tree, detail));
  const res = await admin("/experiences?first=100");
  const exps = res.data || [];
  const all = [];
  const timing = (d) => {
    const n = emulatorNow().getTime();
    if (d.archived) return "ended";
    if (d.openAt && Date.parse(d.openAt) > n) return "scheduled";
    if (d.closeAt && Date.parse(d.closeAt) <= n) return "closed";
    return "open";
  };
  const ul = h("ul");
  for (const e of exps) {
    const seqs = h("ul");
    for (const s of e.sequences || []) {
      const ds = h("ul");
      for (const [key, type] of [["queues", "queue"], ["draws", "draw"], ["auctions", "auction"], ["appointments", "appointment"], ["timedReleases", "timed release"]])
        for (const d of s[key] || []) {
          all.push({ ...d, kind: type });
          ds.append(h("li", {}, h("button", { type: "button", class: "link", "data-distribution": d.id, onclick: () => { location.hash = "#/experiences/" + d.id; } }, d.name ?? d.id), " ", h("span", { class: "muted" }, type), " ", badge(timing(d))));
        }
      seqs.append(h("li", {}, h("strong", {}, s.name), ds));
    }
    ul.append(h("li", {}, h("strong", {}, e.name), " ", h("code", {}, e.id), seqs));
  }
  tree.append(h("h2", {}, "Drops"), exps.length ? ul : h("p", { class: "muted" }, "No experiences."));
  const d = all.find((x) => x.id === distId);
  if (d) await distributionDetail(detail, d);
};

async function distributionDetail(panel, d) {
  const chartBox = h("div", { class: "chart" });
  const table = h("div", { id: "participants" });
  const simulateN = h("input", { id: "simulate-n", type: "number", min: 1, max: 100000, value: 5, size: 5, "aria-label": "Number of consumers" });
  const admitN = h("input", { id: "admit-n", type: "number", min: 1, value: 1, size: 4, "aria-label": "Number to admit" });
  const act = async (fn, text) => { const r = await tryApi(fn); if (r) { toast(text); await render(); } };
  const actions = h("div", { class: "row", role: "group", "aria-label": "QA actions" },
    h("label", { for: "simulate-n" }, "Simulate"), simulateN,
    h("button", { type: "button", id: "simulate", onclick: () => act(() => api(`/_emulator/distributions/${d.id}/simulate`, { method: "POST", body: { consumers: Number(simulateN.value) } }), "Simulated") }, "consumers"),
    d.kind === "queue" ? [h("label", { for: "admit-n" }, "Admit next"), admitN,
      h("button", { type: "button", id: "admit", onclick: () => act(() => api(`/_emulator/queues/${d.id}/admit`, { method: "POST", body: { count: Number(admitN.value) } }), "Admitted") }, "Admit")] : null,
    d.kind === "draw" ? h("button", { type: "button", id: "run-draw", onclick: () => act(() => api(`/_emulator/draws/${d.id}/run`, { method: "POST", body: {} }), "Draw run") }, "Run draw") : null,
    d.kind === "auction" ? h("button", { type: "button", id: "settle", onclick: () => act(() => api(`/_emulator/auctions/${d.id}/settle`, { method: "POST", body: {} }), "Settled") }, "Settle auction") : null);
  panel.replaceChildren(h("h2", {}, d.name ?? d.id, " ", h("span", { class: "muted" }, d.kind)), h("p", {}, h("code", {}, d.id), " ", copyButton(d.id, "Copy id")),
    actions, chartBox, table);
  let plot = null;
  async function render() {
    const res = await api(`/_emulator/distributions/${d.id}/participants`).catch(() => null);
    const ps = res?.participants ?? [];
    const cols = d.kind === "queue" ? ["consumerId", "status", "position", "grant expires in", "enteredAt"]
      : d.kind === "auction" ? ["consumerId", "status", "bidCount", "lastBidAmount", "wonAmount"]
      : ["consumerId", "status", "enteredAt", "wonAt"];
    const cell = (p, c) => c === "status" ? badge(p.status) : c === "grant expires in" ? (p.status === "GRANTED" ? h("span", { class: "countdown", "data-expires": p.expiresAt }, countdown(p.expiresAt)) : "") : c === "consumerId" ? h("code", { title: p.consumerId }, p.consumerId.slice(0, 13) + "…") : esc(p[c] ?? "");
    table.replaceChildren(h("h3", {}, `${ps.length} participants`),
      h("table", {}, h("thead", {}, h("tr", {}, cols.map((c) => h("th", {}, c)))),
        h("tbody", {}, ps.slice(0, 200).map((p) => h("tr", { "data-consumer": p.consumerId, "data-status": p.status }, cols.map((c) => h("td", {}, cell(p, c))))))));
    // Charts: admissions over time (queue), bids over time (auction).
    let series = null, label = null;
    if (d.kind === "queue") {
      const times = ps.map((p) => p.grantedAt).filter(Boolean).map((t) => Date.parse(t) / 1000).sort((a, b) => a - b);
      series = [times, times.map((_, i) => i + 1)]; label = "admissions (cumulative)";
    } else if (d.kind === "auction" && state.org) {
      const hist = await fetch(`http://${location.hostname}:${state.info?.ports.consumer ?? 4802}/api/v1/auctions/${d.id}/bids/history?limit=500`, { headers: { "X-Publishable-Key": state.org.publishableKey } })
        .then((r) => (r.ok ? r.json() : null)).catch(() => null);
      const bids = (hist?.bids ?? hist?.data ?? (Array.isArray(hist) ? hist : [])).map((b) => [Date.parse(b.createdAt ?? b.placedAt ?? b.timestamp) / 1000, Number(b.amount)]).filter((b) => !isNaN(b[0])).sort((a, b) => a[0] - b[0]);
      series = [bids.map((b) => b[0]), bids.map((b) => b[1])]; label = "bid amount";
    }
    if (series && typeof uPlot !== "undefined") {
      const opts = { width: Math.min(640, panel.clientWidth - 30), height: 180, series: [{}, { label, stroke: getComputedStyle(document.documentElement).getPropertyValue("--accent").trim() || "#5b3df5", width: 2 }],
        axes: [{ stroke: "currentColor" }, { stroke: "currentColor" }] };
      if (plot) plot.destroy();
      chartBox.replaceChildren(h("h3", {}, label === "bid amount" ? "Bids over time" : "Admissions over time"));
      plot = series[0].length ? new uPlot(opts, series, chartBox) : null;
      if (!series[0].length) chartBox.append(h("p", { class: "muted" }, "No data yet."));
    }
  }
  await render();
  every(2000, render);
  every(500, () => { for (const el of panel.querySelectorAll(".countdown")) el.textContent = countdown(el.dataset.expires); });
}

// ------------------------------------------------------------------ consumers
pages.consumers = async (main, [consumerId]) => {
  main.append(h("h1", {}, "Consumers"));
  const search = h("input", { id: "consumer-search", type: "search", placeholder: "email, phone or id", "aria-label": "Search consumers" });
  const list = h("div", { id: "consumer-list" });
  const detail = h("section", { class: "panel", id: "consumer-detail" });
  main.append(h("section", { class: "panel" }, h("div", { class: "row" }, h("label", { for: "consumer-search" }, "Search"), search), list), detail);
  if (!state.info?.features?.adminConsumers) { list.append(h("p", { class: "muted" }, "The admin consumers API is not available in this build.")); return; }
  let latest = 0;
  async function render() {
    const mine = ++latest; // answers can arrive out of order while typing: only the newest one renders
    const q = search.value.trim();
    // The API searches from two characters on; shorter input filters the first page here.
    const res = await admin("/consumers?first=50" + (q.length >= 2 ? "&search=" + encodeURIComponent(q) : "")).catch(() => ({ data: [] }));
    if (mine !== latest) return;
    const rows = (res.data || []).filter((c) => !q || JSON.stringify(c).toLowerCase().includes(q.toLowerCase()));
    list.replaceChildren(h("table", {}, h("thead", {}, h("tr", {}, ["Consumer", "Email", "Phone", "Created"].map((c) => h("th", {}, c)))),
      h("tbody", {}, rows.map((c) => h("tr", {}, h("td", {}, h("a", { href: "#/consumers/" + c.id }, c.id)), h("td", {}, c.email ?? ""), h("td", {}, c.phone ?? ""), h("td", {}, c.createdAt ?? ""))))));
  }
  search.addEventListener("input", render);
  await render();
  if (consumerId) {
    const [c, tl] = await Promise.all([admin("/consumers/" + consumerId).catch(() => null), admin(`/consumers/${consumerId}/timeline`).catch(() => null)]);
    detail.append(h("h2", {}, "Consumer ", h("code", {}, consumerId)), c ? h("pre", {}, JSON.stringify(c, null, 2)) : h("p", { class: "muted" }, "Not found."));
    const items = tl?.activities ?? [];
    const sessions = items.filter((t) => t.type === "SIGN_IN");
    detail.append(h("h3", {}, `Sessions (${sessions.length} sign-ins)`),
      h("h3", {}, "Timeline"), items.length ? h("ol", { id: "timeline" }, items.map((t) => h("li", { "data-type": t.type }, h("span", { class: "mono" }, t.timestamp ?? ""), " ", h("strong", {}, t.type ?? ""), " ", t.status ? badge(t.status) : "",
        " ", h("span", { class: "muted" }, [t.distributionName, t.experienceName, t.eventName, t.amount && `${t.amount} ${t.currencyCode ?? ""}`].filter(Boolean).join(" · "))))) : h("p", { class: "muted" }, "Nothing yet."));
  }
};

// ------------------------------------------------------------------ webhooks
pages.webhooks = async (main) => {
  main.append(h("h1", {}, "Webhooks"));
  const endpoints = h("section", { class: "panel" }, h("h2", {}, "Endpoints"));
  const deliveries = h("section", { class: "panel" }, h("h2", {}, "Deliveries"));
  main.append(endpoints, deliveries);
  const eps = state.org ? await admin("/webhooks").catch(() => null) : null;
  const list = eps?.data ?? eps?.webhooks ?? (Array.isArray(eps) ? eps : []);
  endpoints.append(list.length ? h("table", {}, h("thead", {}, h("tr", {}, ["URL", "Events", "Status", ""].map((c) => h("th", {}, c)))),
    h("tbody", {}, list.map((w) => h("tr", {}, h("td", {}, h("code", {}, w.url)), h("td", {}, (w.events || w.eventTypes || []).join(", ")), h("td", {}, badge(w.status ?? (w.enabled === false ? "disabled" : "enabled"))),
      h("td", {}, h("button", { type: "button", class: "replay", onclick: async () => {
        const end = emulatorNow(); const start = new Date(end.getTime() - 86400000);
        const r = await tryApi(() => admin(`/webhooks/${w.id}/replay`, { method: "POST", body: { startTime: start.toISOString(), endTime: end.toISOString() } }));
        if (r) toast("Replayed the last 24 h");
      } }, "Replay 24 h")))))) : h("p", { class: "muted" }, "No endpoints for this organization."));
  const box = h("div", { id: "deliveries" });
  deliveries.append(box);
  let last = "";
  async function render() {
    const res = await api("/_emulator/webhooks/deliveries" + (state.org ? "?organizationId=" + state.org.organizationId : "")).catch(() => ({ deliveries: [] }));
    const ds = (res.deliveries || []).slice().reverse();
    const key = JSON.stringify(ds.map((d) => [d.id, d.status, d.attemptCount]));
    if (key === last) return; last = key;
    box.replaceChildren(ds.length ? h("table", {}, h("thead", {}, h("tr", {}, ["Event", "Status", "Attempts", "Next retry", "Endpoint", ""].map((c) => h("th", {}, c)))),
      h("tbody", {}, ds.map((d) => h("tr", { "data-delivery": d.id, "data-status": d.status },
        h("td", {}, h("code", {}, d.eventType), h("div", { class: "muted mono" }, d.eventId)),
        h("td", {}, badge(d.status)), h("td", {}, `${d.attemptCount}/${d.maxAttempts}`), h("td", { class: "mono" }, d.nextAttemptAt ?? ""),
        h("td", {}, h("code", {}, d.endpointUrl ?? ""),
          h("details", {}, h("summary", {}, "Attempts"), ...(d.attempts || []).map((a) => h("div", {},
            h("div", {}, `#${a.attempt} ${a.attemptedAt} → `, badge(a.response?.status ?? a.outcome), a.error ? " " + a.error : ""),
            h("pre", {}, "Request\n" + JSON.stringify(a.request, null, 2) + "\n\nResponse\n" + JSON.stringify(a.response, null, 2)))))),
        h("td", {}, h("button", { type: "button", class: "redeliver", onclick: async () => { const r = await tryApi(() => api(`/_emulator/webhooks/deliveries/${d.id}/redeliver`, { method: "POST" })); if (r) { toast("Redelivered"); render(); } } }, "Redeliver")))))) :
      h("p", { class: "muted" }, "No deliveries yet."));
  }
  every(2000, render);
};

// ------------------------------------------------------------------ requests (the request journal, when the emulator has one)
pages.requests = async (main) => {
  main.append(h("h1", {}, "Requests"));
  const box = h("div", { id: "requests" });
  main.append(h("section", { class: "panel" }, box));
  async function render() {
    const res = await api("/_emulator/requests?limit=100").catch(() => null);
    if (!res) { box.replaceChildren(h("p", { class: "muted" }, "No request journal in this build.")); return; }
    const rs = res.requests ?? res.data ?? [];
    box.replaceChildren(h("table", {}, h("thead", {}, h("tr", {}, ["Time", "API", "Method", "Path", "Status", "ms"].map((c) => h("th", {}, c)))),
      h("tbody", {}, rs.map((r) => h("tr", {}, h("td", { class: "mono" }, r.timestamp ?? r.at ?? ""), h("td", {}, r.api ?? ""), h("td", {}, r.method), h("td", {}, h("code", {}, r.path)), h("td", {}, badge(r.status)), h("td", {}, r.durationMs ?? ""))))));
  }
  every(2000, render);
};

boot().catch((e) => { $("#main").textContent = "Could not start the dashboard: " + e.message; console.error(e); });
