// @ts-check
// The leadrouter sales-ops console. Plain browser JavaScript, type-checked by tsc (checkJs) in
// tests/console; no framework, no build step, no third-party code. Every view reads the JSON
// API under /console/api (the same calls as gRPC), sending the token in the Authorization
// header; nothing is rendered with innerHTML, so lead data cannot inject markup.
"use strict";

/** @typedef {{[key: string]: any}} Json */
/** @typedef {{principal: string, scopes: string[], restricted: boolean, auth: boolean,
 *   config_version: string,
 *   reps: {id: string, name: string, timezone: string, pools: string[],
 *          max_open_leads: number, daily_cap: number}[],
 *   pools: {name: string, strategy: string, overflow_pool: string,
 *           members: {rep_id: string, weight: number}[]}[],
 *   territories: string[]}} Session */

const TOKEN_KEY = "leadrouter.console.token";
const LIVE_ROWS = 500;

class ApiError extends Error {
  /** @param {number} status @param {string} code @param {string} field @param {string} message */
  constructor(status, code, field, message) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

const state = {
  /** @type {string} */ token: sessionStorage.getItem(TOKEN_KEY) || "",
  /** @type {Session | null} */ session: null,
  /** @type {Json[]} */ live: [],
  /** @type {string} */ cursor: "",
  /** @type {AbortController | null} */ liveAbort: null,
  liveConnected: false,
  filters: { status: "", pool: "", rep: "", source: "" },
};

// ---------------------------------------------------------------------------------------------
// DOM helpers

/**
 * An element with attributes (on* as listeners) and children (strings become text nodes).
 * @param {string} tag
 * @param {Json} [attrs]
 * @param {...(Node | string | number | null | undefined | false)} children
 * @returns {HTMLElement}
 */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (value === true) {
      el.setAttribute(key, "");
    } else {
      el.setAttribute(key, String(value));
    }
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === "object" ? child : String(child));
  }
  return el;
}

/** @param {string} id @returns {HTMLElement} */
function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el;
}

/** @param {string} text @param {boolean} [isError] */
function toast(text, isError = false) {
  const el = byId("toast");
  el.textContent = text;
  el.className = isError ? "toast error" : "toast";
  el.hidden = false;
  window.clearTimeout(Number(el.dataset.timer || 0));
  el.dataset.timer = String(window.setTimeout(() => { el.hidden = true; }, 5000));
}

/** "ASSIGNMENT_STATUS_ASSIGNED" -> "assigned" @param {string | undefined} name @param {string} prefix */
function enumName(name, prefix) {
  if (!name) return "";
  return name.startsWith(prefix) ? name.slice(prefix.length).toLowerCase() : name.toLowerCase();
}

/** @param {string | undefined} status */
function statusPill(status) {
  const name = enumName(status, "ASSIGNMENT_STATUS_");
  return h("span", { class: `pill ${name}` }, name.replace("_", " ") || "?");
}

/** A time in the viewer's zone. @param {string | undefined} at */
function when(at) {
  if (!at) return "";
  const date = new Date(at);
  return isNaN(date.getTime()) ? at : date.toLocaleString();
}

/** The time now in a rep's zone. @param {string} zone */
function nowIn(zone) {
  try {
    return new Intl.DateTimeFormat(undefined, {
      timeZone: zone, hour: "2-digit", minute: "2-digit", weekday: "short",
    }).format(new Date());
  } catch {
    return "";
  }
}

/** "3m 20s" for a duration in ms (negative: "overdue 3m"). @param {number} ms */
function duration(ms) {
  const overdue = ms < 0;
  let s = Math.round(Math.abs(ms) / 1000);
  const hours = Math.floor(s / 3600); s -= hours * 3600;
  const minutes = Math.floor(s / 60); s -= minutes * 60;
  const text = hours ? `${hours}h ${minutes}m` : minutes ? `${minutes}m ${s}s` : `${s}s`;
  return overdue ? `overdue ${text}` : text;
}

/** @param {string} view */
function hasScope(view) {
  return !!state.session && state.session.scopes.includes(view);
}

// ---------------------------------------------------------------------------------------------
// API

/**
 * @param {string} path under /console/api/
 * @param {{method?: string, body?: Json, signal?: AbortSignal}} [options]
 * @returns {Promise<Json>}
 */
async function api(path, options = {}) {
  /** @type {Record<string, string>} */
  const headers = { Accept: "application/json" };
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  /** @type {RequestInit} */
  const init = { method: options.method || "GET", headers, signal: options.signal };
  if (options.body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(options.body);
  }
  const response = await fetch(`/console/api/${path}`, init);
  const text = await response.text();
  /** @type {Json} */
  let json = {};
  try { json = text ? JSON.parse(text) : {}; } catch { json = {}; }
  if (!response.ok) {
    const error = json.error || {};
    if (response.status === 401 && path !== "session") signOut("Your token was refused; sign in again.");
    throw new ApiError(response.status, error.code || String(response.status), error.field || "",
      error.message || response.statusText);
  }
  return json;
}

/** Runs an action, then says how it went. @param {string} done @param {() => Promise<unknown>} action */
async function act(done, action) {
  try {
    await action();
    toast(done);
    return true;
  } catch (e) {
    toast(e instanceof Error ? e.message : String(e), true);
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Sign-in

/** @param {string} [message] */
function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  state.token = "";
  state.session = null;
  state.liveAbort?.abort();
  state.liveAbort = null;
  byId("nav").hidden = true;
  byId("who").replaceChildren();
  byId("view").replaceChildren();
  byId("signin").hidden = false;
  byId("signin-error").textContent = message || "";
  byId("token").focus();
}

async function start() {
  try {
    if (!state.token && (await api("hello")).auth) {
      signOut();
      return;
    }
    state.session = /** @type {Session} */ (await api("session"));
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      signOut(state.token ? "That token was refused." : "");
      return;
    }
    byId("view").replaceChildren(h("p", { class: "error" }, `Cannot reach leadrouter: ${e}`));
    return;
  }
  const session = state.session;
  byId("signin").hidden = true;
  byId("nav").hidden = false;
  const who = byId("who");
  who.replaceChildren(
    h("span", { id: "live-indicator", title: "live feed" }, h("span", { class: "status-dot" })),
    h("span", { id: "principal" }, session.auth ? session.principal : "auth off (anonymous)"),
    h("span", { class: "muted" }, session.scopes.join(" · ")));
  if (session.auth) {
    who.append(h("button", { class: "secondary", type: "button", onclick: () => signOut() }, "Sign out"));
  }
  connectLive();
  route();
}

byId("signin-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = /** @type {HTMLInputElement} */ (byId("token"));
  state.token = input.value.trim();
  input.value = "";
  sessionStorage.setItem(TOKEN_KEY, state.token);
  start();
});

// ---------------------------------------------------------------------------------------------
// Live feed: Server-Sent Events read with fetch (EventSource cannot send the token).

function connectLive() {
  state.liveAbort?.abort();
  const abort = new AbortController();
  state.liveAbort = abort;
  const query = state.cursor ? `?after=${encodeURIComponent(state.cursor)}` : "";
  /** @type {Record<string, string>} */
  const headers = { Accept: "text/event-stream" };
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  const retry = () => {
    setLiveConnected(false);
    if (!abort.signal.aborted) window.setTimeout(() => { if (state.liveAbort === abort) connectLive(); }, 2000);
  };
  fetch(`/console/api/live${query}`, { headers, signal: abort.signal }).then(async (response) => {
    if (!response.ok || !response.body) {
      if (response.status === 401) return signOut("Your token was refused; sign in again.");
      return retry();
    }
    setLiveConnected(true);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        onSse(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
      }
    }
    retry();
  }).catch(() => retry());
}

/** @param {boolean} on */
function setLiveConnected(on) {
  state.liveConnected = on;
  const dot = document.querySelector("#live-indicator .status-dot");
  if (dot) dot.className = `status-dot ${on ? "on" : "off"}`;
}

/** One SSE message. @param {string} block */
function onSse(block) {
  let id = "", event = "message", data = "";
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "id") id = value;
    else if (field === "event") event = value;
    else if (field === "data") data += value;
  }
  if (!data) return;
  if (event !== "message") {
    try { toast(JSON.parse(data).error.message, true); } catch { /* not JSON */ }
    return;
  }
  if (id) state.cursor = id;
  /** @type {Json} */
  const assignment = JSON.parse(data);
  state.live.unshift(assignment);
  if (state.live.length > LIVE_ROWS) state.live.length = LIVE_ROWS;
  if (currentView() === "live") renderLiveRows();
}

// ---------------------------------------------------------------------------------------------
// Views

function currentView() {
  return (location.hash.replace(/^#\//, "").split("/")[0] || "live");
}

function route() {
  if (!state.session) return;
  const [view, ...rest] = location.hash.replace(/^#\//, "").split("/");
  const name = view || "live";
  for (const link of document.querySelectorAll("nav a")) {
    if (link instanceof HTMLElement) {
      if (link.dataset.view === name) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
  }
  const arg = decodeURIComponent(rest.join("/"));
  if (name === "live") renderLive();
  else if (name === "lead") renderLead(arg);
  else if (name === "reps") renderReps();
  else if (name === "queue") renderQueue();
  else if (name === "claims") renderClaims();
  else renderLive();
}
window.addEventListener("hashchange", route);

/** @param {Json} a */
function sourceOf(a) {
  const lead = a.lead || {};
  return lead.source_system || enumName(lead.source_kind, "LEAD_SOURCE_KIND_") || "";
}

/** @param {Json} a */
function leadLink(a) {
  return h("a", { href: `#/lead/${encodeURIComponent(a.lead_id || "")}` }, a.lead_id || "");
}

function renderLive() {
  const session = /** @type {Session} */ (state.session);
  const f = state.filters;
  /** @param {string} key @param {string} label @param {string[]} options */
  const select = (key, label, options) => h("label", {}, `${label} `,
    h("select", {
      id: `filter-${key}`,
      onchange: (/** @type {Event} */ e) => {
        /** @type {Json} */ (f)[key] = /** @type {HTMLSelectElement} */ (e.target).value;
        renderLiveRows();
      },
    }, h("option", { value: "" }, "all"),
    ...options.map((o) => h("option", { value: o, selected: /** @type {Json} */ (f)[key] === o }, o))));
  const statuses = ["assigned", "accepted", "returned", "expired", "converted", "duplicate",
    "unassigned", "recycled"];
  byId("view").replaceChildren(h("div", { class: "card" },
    h("h2", {}, "Live routing"),
    h("div", { class: "toolbar" },
      select("status", "Status", statuses),
      select("pool", "Pool", session.pools.map((p) => p.name)),
      select("rep", "Rep", session.reps.map((r) => r.id)),
      h("label", {}, "Source ", h("input", {
        id: "filter-source", value: f.source, placeholder: "any",
        oninput: (/** @type {Event} */ e) => {
          f.source = /** @type {HTMLInputElement} */ (e.target).value.trim().toLowerCase();
          renderLiveRows();
        },
      }))),
    h("table", { id: "live-table" },
      h("thead", {}, h("tr", {}, ...["When", "Status", "Lead", "Company", "Rep", "Pool",
        "Territory", "Source", "Why"].map((t) => h("th", {}, t)))),
      h("tbody", { id: "live-rows" }))));
  renderLiveRows();
}

function renderLiveRows() {
  const body = document.getElementById("live-rows");
  if (!body) return;
  const f = state.filters;
  const rows = state.live.filter((a) =>
    (!f.status || enumName(a.status, "ASSIGNMENT_STATUS_") === f.status) &&
    (!f.pool || a.pool === f.pool) && (!f.rep || a.rep_id === f.rep) &&
    (!f.source || sourceOf(a).toLowerCase().includes(f.source)));
  body.replaceChildren(...rows.map((a) => h("tr", { "data-lead": a.lead_id },
    h("td", {}, when(a.event_time || a.assigned_at)),
    h("td", {}, statusPill(a.status)),
    h("td", {}, leadLink(a)),
    h("td", {}, ((a.lead || {}).company || {}).name || ""),
    h("td", {}, a.rep_id || ""),
    h("td", {}, a.pool || ""),
    h("td", {}, a.territory || ""),
    h("td", {}, sourceOf(a)),
    h("td", { class: "muted" }, a.reason || ""))));
  if (!rows.length) {
    body.replaceChildren(h("tr", {}, h("td", { colspan: 9, class: "muted" },
      state.liveConnected ? "Waiting for leads…" : "Connecting to the live feed…")));
  }
}

/** @param {string} leadId */
async function renderLead(leadId) {
  const view = byId("view");
  const input = h("input", { id: "lead-query", name: "q", value: leadId, size: 44,
    placeholder: "lead id or event id", "aria-label": "lead id or event id" });
  const kind = h("select", { id: "lead-kind", "aria-label": "search by" },
    h("option", { value: "lead_id" }, "lead id"), h("option", { value: "event_id" }, "event id"));
  const form = h("form", { class: "toolbar", id: "lead-search" }, input, kind,
    h("button", { type: "submit" }, "Explain"));
  const result = h("div", { id: "lead-result" });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const q = /** @type {HTMLInputElement} */ (input).value.trim();
    if (/** @type {HTMLSelectElement} */ (kind).value === "event_id") {
      showLead(result, `leads?event_id=${encodeURIComponent(q)}`);
    } else {
      location.hash = `#/lead/${encodeURIComponent(q)}`;
    }
  });
  view.replaceChildren(h("div", { class: "card" }, h("h2", {}, "Lead"), form), result);
  if (leadId) showLead(result, `leads/${encodeURIComponent(leadId)}`);
}

/** @param {HTMLElement} into @param {string} path */
async function showLead(into, path) {
  into.replaceChildren(h("p", { class: "muted" }, "Loading…"));
  /** @type {Json} */
  let a;
  try {
    a = await api(path);
  } catch (e) {
    into.replaceChildren(h("p", { class: "error", role: "alert" }, e instanceof Error ? e.message : String(e)));
    return;
  }
  const lead = a.lead || {};
  const person = lead.person || {};
  const company = lead.company || {};
  const q = a.qualification || {};
  const sla = a.sla_deadline ? Date.parse(a.sla_deadline) - Date.now() : null;
  const rep = state.session?.reps.find((r) => r.id === a.rep_id);
  into.replaceChildren(
    h("div", { class: "grid" },
      h("div", { class: "card", id: "lead-summary" }, h("h2", {}, "Where it went"), h("dl", {},
        h("dt", {}, "Lead"), h("dd", { id: "lead-id" }, a.lead_id || ""),
        h("dt", {}, "Status"), h("dd", { id: "lead-status" }, statusPill(a.status)),
        h("dt", {}, "Rep"), h("dd", { id: "lead-rep" }, a.rep_id || "—",
          rep ? h("span", { class: "muted" }, ` ${rep.name} · ${rep.timezone} (${nowIn(rep.timezone)})`) : null),
        h("dt", {}, "Pool"), h("dd", {}, a.pool || "—"),
        h("dt", {}, "Territory"), h("dd", {}, a.territory || "—"),
        h("dt", {}, "Why"), h("dd", {}, a.reason || ""),
        h("dt", {}, "Assigned"), h("dd", {}, when(a.assigned_at)),
        h("dt", {}, "Accept by"), h("dd", {}, a.sla_deadline ? `${when(a.sla_deadline)} (${duration(/** @type {number} */ (sla))})` : "—"),
        h("dt", {}, "Attempt"), h("dd", {}, a.attempt || 1),
        h("dt", {}, "Config"), h("dd", { class: "muted" }, a.config_version || ""))),
      h("div", { class: "card" }, h("h2", {}, "The lead"), h("dl", {},
        h("dt", {}, "Event"), h("dd", {}, a.event_id || ""),
        h("dt", {}, "Person"), h("dd", {}, [person.first_name, person.last_name].filter(Boolean).join(" "),
          person.title ? h("span", { class: "muted" }, ` · ${person.title}`) : null),
        h("dt", {}, "E-mail"), h("dd", {}, person.email || ""),
        h("dt", {}, "Company"), h("dd", {}, company.name || "", company.domain ? h("span", { class: "muted" }, ` · ${company.domain}`) : null),
        h("dt", {}, "Where"), h("dd", {}, [company.country, company.region].filter(Boolean).join(" / ")),
        h("dt", {}, "Size"), h("dd", {}, company.employee_count ? `${company.employee_count} employees` : ""),
        h("dt", {}, "Source"), h("dd", {}, sourceOf(a), lead.campaign ? h("span", { class: "muted" }, ` · ${lead.campaign}`) : null))),
      actionsCard(a)),
    h("div", { class: "card" }, h("h2", {}, `Qualification: ${enumName(q.outcome, "QUALIFICATION_OUTCOME_")} · score ${q.score || 0}`),
      (q.segments || []).length ? h("p", {}, "Segments: ", q.segments.join(", ")) : null,
      h("table", { id: "lead-rules" }, h("thead", {}, h("tr", {}, h("th", {}, "Rule"), h("th", {}, "Kind"), h("th", {}, ""), h("th", {}, "Points"), h("th", {}, "Observed"))),
        h("tbody", {}, ...(q.rules || []).map((/** @type {Json} */ r) => h("tr", {},
          h("td", {}, r.name), h("td", { class: "muted" }, enumName(r.rule_kind, "RULE_KIND_") || r.kind),
          h("td", {}, h("span", { class: `pill ${r.fired ? "fired" : "off"}` }, r.fired ? "fired" : "no")),
          h("td", {}, r.points || ""), h("td", { class: "muted" }, r.detail || "")))))),
    h("div", { class: "card" }, h("h2", {}, "Decision trace"),
      h("table", { id: "lead-trace" }, h("thead", {}, h("tr", {}, h("th", {}, "Stage"), h("th", {}, "Decision"), h("th", {}, "Why"))),
        h("tbody", {}, ...(a.trace || []).map((/** @type {Json} */ t) => h("tr", {},
          h("td", {}, t.stage), h("td", {}, t.decision), h("td", { class: "muted" }, t.reason)))))),
    h("div", { class: "card" }, h("h2", {}, "History"),
      h("table", { id: "lead-history" }, h("thead", {}, h("tr", {}, h("th", {}, "When"), h("th", {}, "Status"), h("th", {}, "Rep"), h("th", {}, "By"), h("th", {}, "Reason / note"))),
        h("tbody", {}, ...(a.history || []).map((/** @type {Json} */ t) => h("tr", {},
          h("td", {}, when(t.at)), h("td", {}, statusPill(t.status)), h("td", {}, t.rep_id || ""),
          h("td", { class: "muted" }, t.actor || ""),
          h("td", { class: "muted" }, [enumName(t.return_reason, "RETURN_REASON_"), t.note].filter(Boolean).join(": "))))))));
}

/** Accept / return / convert on behalf of the holding rep. @param {Json} a */
function actionsCard(a) {
  const status = enumName(a.status, "ASSIGNMENT_STATUS_");
  const holding = (status === "assigned" || status === "accepted") && a.rep_id;
  const mayAct = hasScope("act") && !!state.session?.reps.find((r) => r.id === a.rep_id);
  if (!holding || !mayAct) {
    return h("div", { class: "card" }, h("h2", {}, "Actions"), h("p", { class: "muted" },
      !holding ? "Nothing to do: no rep holds this lead." : "Your token may not act for this rep."));
  }
  const reload = () => showLead(/** @type {HTMLElement} */ (byId("lead-result")), `leads/${encodeURIComponent(a.lead_id)}`);
  const reasons = ["BAD_FIT", "WRONG_TERRITORY", "DUPLICATE", "NO_CONTACT_INFO", "NOT_READY",
    "EXISTING_CUSTOMER", "OTHER"];
  const reason = h("select", { id: "return-reason", "aria-label": "return reason" },
    ...reasons.map((r) => h("option", { value: `RETURN_REASON_${r}` }, r.toLowerCase().replace(/_/g, " "))));
  const note = h("input", { id: "return-note", placeholder: "note (required for other)", "aria-label": "note" });
  const value = h("input", { id: "convert-value", type: "number", min: 0, step: "any", placeholder: "deal value", "aria-label": "deal value", size: 10 });
  const base = `leads/${encodeURIComponent(a.lead_id)}`;
  const returnForm = h("form", { class: "inline", id: "return-form" }, reason, note,
    h("button", { type: "submit" }, "Return (re-routes)"));
  returnForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (await act("Returned; it is routed again.", () => api(`${base}/return`, { method: "POST", body: {
      rep_id: a.rep_id, reason: /** @type {HTMLSelectElement} */ (reason).value,
      note: /** @type {HTMLInputElement} */ (note).value } }))) reload();
  });
  const convertForm = h("form", { class: "inline", id: "convert-form" }, value,
    h("button", { type: "submit", class: "secondary" }, "Convert"));
  convertForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    const v = Number(/** @type {HTMLInputElement} */ (value).value || 0);
    if (await act("Converted.", () => api(`${base}/convert`, { method: "POST", body: { rep_id: a.rep_id, value: v } }))) reload();
  });
  return h("div", { class: "card", id: "lead-actions" }, h("h2", {}, `Actions for ${a.rep_id}`),
    status === "assigned" ? h("p", {}, h("button", { type: "button", id: "accept-button", onclick: async () => {
      if (await act("Accepted.", () => api(`${base}/accept`, { method: "POST", body: { rep_id: a.rep_id } }))) reload();
    } }, "Accept")) : null,
    h("h3", {}, "Return"), returnForm, h("h3", {}, "Convert"), convertForm);
}

async function renderReps() {
  const session = /** @type {Session} */ (state.session);
  const view = byId("view");
  view.replaceChildren(h("div", { class: "card" }, h("h2", {}, "Reps"), h("p", { class: "muted" }, "Loading…")));
  const admin = hasScope("admin");
  /** @type {Map<string, Json>} */
  const loads = new Map();
  let note = "";
  if (admin) {
    try {
      const response = await api("reps");
      for (const load of response.reps || []) loads.set(load.rep_id, load);
    } catch (e) {
      note = e instanceof Error ? e.message : String(e);
    }
  } else {
    note = "Loads and availability controls need a token with the admin scope.";
  }
  const rows = session.reps.map((rep) => {
    const load = loads.get(rep.id) || {};
    const paused = !!load.paused;
    const from = h("input", { type: "datetime-local", "aria-label": `${rep.id} out of office from` });
    const to = h("input", { type: "datetime-local", "aria-label": `${rep.id} out of office to` });
    const availability = (/** @type {Json} */ body, /** @type {string} */ done) =>
      act(done, () => api(`reps/${encodeURIComponent(rep.id)}/availability`, { method: "POST", body })).then((ok) => { if (ok) renderReps(); });
    // proto3 JSON leaves zeros out: a loaded rep without a field has 0 of it (0 caps: none).
    const loaded = load.rep_id !== undefined;
    const maxOpen = h("input", { type: "number", min: 0, value: load.max_open_leads || "", placeholder: "no cap", "aria-label": `${rep.id} max open leads` });
    const daily = h("input", { type: "number", min: 0, value: load.daily_cap || "", placeholder: "no cap", "aria-label": `${rep.id} daily cap` });
    return h("tr", { "data-rep": rep.id },
      h("td", {}, h("strong", {}, rep.id), h("div", { class: "muted" }, rep.name)),
      h("td", {}, rep.timezone, h("div", { class: "muted" }, nowIn(rep.timezone))),
      h("td", {}, rep.pools.join(", ")),
      h("td", { class: "today" }, loaded ? load.assigned_today || 0 : "—"),
      h("td", { class: "open" }, loaded ? load.open_leads || 0 : "—"),
      h("td", {}, admin ? h("span", {}, maxOpen, " / ", daily, " ",
        h("button", { type: "button", class: "secondary", onclick: () => act("Caps saved.", () => api(`reps/${encodeURIComponent(rep.id)}/capacity`, { method: "POST", body: {
          max_open_leads: Number(/** @type {HTMLInputElement} */ (maxOpen).value || 0),
          daily_cap: Number(/** @type {HTMLInputElement} */ (daily).value || 0) } })).then((ok) => { if (ok) renderReps(); }) }, "Set"),
        h("button", { type: "button", class: "secondary", onclick: () => act("Caps back to the config's.", () => api(`reps/${encodeURIComponent(rep.id)}/capacity`, { method: "POST", body: { clear: true } })).then((ok) => { if (ok) renderReps(); }) }, "Reset"))
        : `${rep.max_open_leads || "∞"} / ${rep.daily_cap || "∞"}`),
      h("td", { class: "availability" }, !loaded ? "—" :
        load.available_now ? h("span", { class: "pill accepted" }, "available") :
          h("span", { class: "pill expired" }, load.unavailable_reason || "unavailable")),
      admin ? h("td", {},
        h("button", { type: "button", class: paused ? "" : "secondary", "data-action": paused ? "resume" : "pause",
          onclick: () => availability({ paused: !paused }, paused ? `${rep.id} resumed.` : `${rep.id} paused.`) },
        paused ? "Resume" : "Pause"),
        h("div", {}, from, to, h("button", { type: "button", class: "secondary", onclick: () => {
          const f = /** @type {HTMLInputElement} */ (from).value, t = /** @type {HTMLInputElement} */ (to).value;
          if (!f || !t) return toast("Give both ends of the absence.", true);
          return availability({ out_of_office_from: new Date(f).toISOString(), out_of_office_to: new Date(t).toISOString() }, `Absence set for ${rep.id}.`);
        } }, "Set absence"),
        h("button", { type: "button", class: "secondary", onclick: () => availability({ clear_out_of_office: true }, `Absences cleared for ${rep.id}.`) }, "Clear"))) : null);
  });
  view.replaceChildren(h("div", { class: "card" }, h("h2", {}, "Reps"),
    note ? h("p", { class: "muted", id: "reps-note" }, note) : null,
    h("table", { id: "reps-table" }, h("thead", {}, h("tr", {}, ...["Rep", "Zone (local time)", "Pools", "Today", "Open", "Caps (open / day)", "Now", admin ? "Availability" : null]
      .filter((t) => t !== null).map((t) => h("th", {}, t)))), h("tbody", {}, ...rows))));
}

async function renderQueue() {
  const view = byId("view");
  view.replaceChildren(h("div", { class: "card" }, h("h2", {}, "Unassigned queue"), h("p", { class: "muted" }, "Loading…")));
  try {
    const response = await api("unassigned?limit=200");
    const leads = response.leads || [];
    view.replaceChildren(h("div", { class: "card" },
      h("h2", {}, `Unassigned queue: ${response.total || 0} waiting`),
      h("table", { id: "queue-table" }, h("thead", {}, h("tr", {}, ...["Waiting", "Lead", "Company", "Pool", "Territory", "Why"].map((t) => h("th", {}, t)))),
        h("tbody", {}, ...leads.map((/** @type {Json} */ a) => h("tr", {},
          h("td", {}, duration(Date.now() - Date.parse(a.event_time || a.lead_occurred_at || new Date().toISOString()))),
          h("td", {}, leadLink(a)), h("td", {}, ((a.lead || {}).company || {}).name || ""),
          h("td", {}, a.pool || ""), h("td", {}, a.territory || ""), h("td", { class: "muted" }, a.reason || "")))))));
  } catch (e) {
    view.replaceChildren(h("div", { class: "card" }, h("h2", {}, "Unassigned queue"),
      h("p", { class: "error" }, e instanceof Error ? e.message : String(e))));
  }
}

async function renderClaims() {
  const view = byId("view");
  view.replaceChildren(h("div", { class: "card" }, h("h2", {}, "Claims"), h("p", { class: "muted" }, "Loading…")));
  /** @type {Json} */
  let response;
  try {
    response = await api("claims");
  } catch (e) {
    view.replaceChildren(h("div", { class: "card" }, h("h2", {}, "Claims"),
      h("p", { class: "error" }, e instanceof Error ? e.message : String(e))));
    return;
  }
  const admin = hasScope("admin");
  /** @param {Json[]} owners */
  const ownersText = (owners) => (owners || []).map((o) => `${o.rep_id}${o.percent && o.percent !== 100 ? ` ${o.percent}%` : ""}`).join(", ");
  const conflicts = (response.conflicts || []).map((/** @type {Json} */ c) => {
    const open = c.status === "CONFLICT_STATUS_OPEN";
    const percent = h("input", { type: "number", min: 1, max: 99, value: 50, size: 3, "aria-label": "claimant share percent" });
    const resolve = (/** @type {string} */ decision) => act("Conflict resolved.", () => api("claims/resolve", { method: "POST", body: {
      domain: c.domain, claimant_rep_id: c.claimant_rep_id, decision,
      claimant_percent: decision === "CONFLICT_DECISION_SHARE" ? Number(/** @type {HTMLInputElement} */ (percent).value) : 0 } })).then((ok) => { if (ok) renderClaims(); });
    return h("tr", { "data-domain": c.domain },
      h("td", {}, c.domain), h("td", {}, c.claimant_rep_id), h("td", {}, ownersText(c.owners_at_claim)),
      h("td", {}, enumName(c.status, "CONFLICT_STATUS_").replace(/_/g, " ")), h("td", {}, when(c.raised_at)),
      h("td", { class: "muted" }, c.note || ""),
      h("td", {}, open && admin ? h("span", {},
        h("button", { type: "button", class: "secondary", onclick: () => resolve("CONFLICT_DECISION_KEEP_OWNER") }, "Keep owner"), " ",
        h("button", { type: "button", class: "secondary", onclick: () => resolve("CONFLICT_DECISION_AWARD_CLAIMANT") }, "Award claimant"), " ",
        percent, h("button", { type: "button", class: "secondary", onclick: () => resolve("CONFLICT_DECISION_SHARE") }, "Share"))
        : open ? h("span", { class: "muted" }, "an admin resolves it") : `${c.resolved_by || ""} → ${ownersText(c.owners_after)}`));
  });
  view.replaceChildren(
    h("div", { class: "card" }, h("h2", {}, `Claim conflicts (${response.open_conflicts || 0} open)`),
      h("table", { id: "conflicts-table" }, h("thead", {}, h("tr", {}, ...["Account", "Claimant", "Owners then", "Status", "Raised", "Note", ""].map((t) => h("th", {}, t)))),
        h("tbody", {}, ...conflicts))),
    h("div", { class: "card" }, h("h2", {}, "Claims"),
      h("table", { id: "claims-table" }, h("thead", {}, h("tr", {}, ...["Account", "Rep", "Status", "Claimed", "Expires", "By", "Note"].map((t) => h("th", {}, t)))),
        h("tbody", {}, ...(response.claims || []).map((/** @type {Json} */ c) => h("tr", {},
          h("td", {}, c.domain), h("td", {}, c.rep_id, c.percent && c.percent !== 100 ? ` (${c.percent}%)` : ""),
          h("td", {}, enumName(c.status, "CLAIM_STATUS_")), h("td", {}, when(c.claimed_at)),
          h("td", {}, when(c.expires_at)), h("td", { class: "muted" }, c.actor || ""),
          h("td", { class: "muted" }, c.note || "")))))));
}

start();
