// Warden console: plain JavaScript, no build step, no dependency.
// Every value from the server is put in the page with textContent, never as HTML.
"use strict";

const state = { csrf: "", user: "", tail: null, timer: 0, plugins: [] };
const $ = (id) => document.getElementById(id);

// h builds an element: h("td", {class: "num"}, "text", child, ...).
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// api calls the console's JSON API; changes carry the CSRF token.
async function api(method, path, body) {
  const headers = {};
  if (method !== "GET") headers["X-Warden-CSRF"] = state.csrf;
  let payload = body;
  if (body !== undefined && !(body instanceof ArrayBuffer)) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch("api/" + path, { method, headers, body: payload, credentials: "same-origin" });
  } catch (e) {
    return { ok: false, status: 0, data: { error: "cannot reach the server: " + e.message } };
  }
  let data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  if (res.status === 401 && path !== "signin") showSignIn("Your session ended; sign in again.");
  return { ok: res.ok, status: res.status, data: data || {} };
}

function message(text, ok) {
  const m = $("message");
  m.textContent = text;
  m.className = "message " + (ok ? "ok" : "bad");
  m.setAttribute("role", ok ? "status" : "alert");
  m.hidden = !text;
}
const clearMessage = () => { $("message").hidden = true; };
const errorText = (r) => (r.data && r.data.error) || ("HTTP " + r.status);

function fmtTime(s) {
  if (!s) return "";
  const d = new Date(s);
  return isNaN(d) ? s : d.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}
function fmtDuration(sec) {
  const d = Math.floor(sec / 86400), hh = Math.floor(sec % 86400 / 3600), m = Math.floor(sec % 3600 / 60), s = sec % 60;
  return (d ? d + "d " : "") + (d || hh ? hh + "h " : "") + m + "m " + s + "s";
}
function fmtBytes(n) { return n > 1 << 20 ? (n / (1 << 20)).toFixed(1) + " MiB" : (n / 1024).toFixed(0) + " KiB"; }

// ---- sign-in and navigation ----

function showSignIn(why) {
  stopTail();
  clearInterval(state.timer);
  $("app-view").hidden = true;
  $("signin-view").hidden = false;
  const err = $("signin-error");
  err.textContent = why || "";
  err.hidden = !why;
  $("signin-password").value = "";
  ($("signin-user").value ? $("signin-password") : $("signin-user")).focus();
}

function showApp(me) {
  state.csrf = me.csrf;
  state.user = me.user;
  $("who-user").textContent = me.user;
  $("brand-node").textContent = (me.node || "") + " · " + (me.version || "");
  $("signin-view").hidden = true;
  $("app-view").hidden = false;
  if (!location.hash) location.hash = "#/status";
  else route();
}

async function signIn(ev) {
  ev.preventDefault();
  const btn = $("signin-submit");
  btn.disabled = true;
  const r = await api("POST", "signin", { user: $("signin-user").value, password: $("signin-password").value });
  btn.disabled = false;
  if (!r.ok) { showSignIn(errorText(r)); return; }
  showApp(r.data);
  $("main").focus();
}

async function signOut() {
  await api("POST", "signout", {});
  state.csrf = "";
  location.hash = "";
  showSignIn("Signed out.");
}

const pages = { status: statusPage, plugins: pluginsPage, explorer: explorerPage, logs: logsPage, accounts: accountsPage, audit: auditPage };

// route shows the page the hash names; after a navigation (not the first
// page) the focus moves to the page's title, so that Tab goes on in the page.
function route(ev) {
  if ($("app-view").hidden) return;
  clearInterval(state.timer);
  const name = (location.hash.match(/^#\/(\w+)/) || [])[1] || "status";
  const page = pages[name] || statusPage;
  stopTail();
  clearMessage();
  for (const a of document.querySelectorAll(".side a[data-page]")) {
    if (a.dataset.page === name) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
  const root = $("page");
  root.replaceChildren();
  page(root);
  if (ev && $("page-title")) $("page-title").focus();
}

function title(root, text) {
  const t = h("h1", { tabindex: "-1", id: "page-title" }, text);
  root.append(t);
  document.title = text + " · Warden console";
  return t;
}

// ---- status ----

// statusPage shows the status and refreshes it every 5 s while shown.
async function statusPage(root) {
  title(root, "Status");
  const body = h("div", { id: "status-body" });
  root.append(body);
  await renderStatus(body);
  state.timer = setInterval(() => { if (document.body.contains(body)) renderStatus(body); }, 5000);
}

async function renderStatus(root) {
  const r = await api("GET", "status");
  if (!r.ok) { message(errorText(r)); return; }
  root.replaceChildren();
  const s = r.data, q = s.requests;
  const stat = (label, value, small) => h("div", { class: "stat" }, h("dt", {}, label), h("dd", { class: small ? "small" : null }, value));
  root.append(h("dl", { class: "stats", id: "status-stats" },
    stat("Node", s.node, true), stat("Version", s.version, true), stat("Uptime", fmtDuration(s.uptime_seconds), true),
    stat("Requests / s (1 min)", q ? q.per_second.toFixed(2) : "n/a"),
    stat("5xx (1 min)", q ? q.last_minute.status_5xx : "n/a"), stat("4xx (1 min)", q ? q.last_minute.status_4xx : "n/a"),
    stat("Error log lines (1 min)", q ? q.last_minute.error_logs : "n/a"),
    stat("Plugins loaded", s.plugins), stat("RPCs", s.rpcs), stat("Plugin files failing", s.failing.length),
    stat("Goroutines", s.goroutines), stat("Heap", fmtBytes(s.heap_bytes), true)));
  root.append(h("p", { class: "muted" }, "Started " + fmtTime(s.started) + " · " + s.go_version +
    (q ? " · " + q.total.requests + " requests since start" : " · request counts need the access log")));
  root.append(h("h2", {}, "Failing plugin files"));
  root.append(failingTable(s.failing));
}

function failingTable(failing) {
  if (!failing.length) return h("p", { class: "empty" }, "None: every plugin file loads.");
  return h("table", {},
    h("thead", {}, h("tr", {}, h("th", {}, "Plugin"), h("th", {}, "File"), h("th", {}, "Error"), h("th", {}, "Since"))),
    h("tbody", {}, failing.map((e) => h("tr", {}, h("td", {}, e.plugin), h("td", { class: "mono" }, e.path),
      h("td", { class: "error" }, e.error), h("td", { class: "time" }, fmtTime(e.at))))));
}

// ---- plugins ----

async function pluginsPage(root) {
  title(root, "Plugins");
  const upload = h("form", { class: "toolbar", id: "upload-form", "aria-label": "Upload a plugin" },
    h("div", { class: "field" }, h("label", { for: "upload-name" }, "Plugin name"),
      h("input", { id: "upload-name", required: true, pattern: "[A-Za-z0-9_][A-Za-z0-9_.\\-]{0,62}", placeholder: "from the file name" })),
    h("div", { class: "field" }, h("label", { for: "upload-file" }, ".wasm file"),
      h("input", { id: "upload-file", type: "file", accept: ".wasm,application/wasm", required: true })),
    h("button", { id: "upload-submit", type: "submit", class: "primary" }, "Upload and deploy"),
    h("button", { id: "reload", type: "button", onclick: reloadPlugins }, "Reload plugin folder"));
  upload.addEventListener("submit", uploadPlugin);
  root.append(upload, h("div", { id: "plugins-list" }));
  upload.querySelector("#upload-file").addEventListener("change", (ev) => {
    const f = ev.target.files[0], name = upload.querySelector("#upload-name");
    if (f && !name.value) name.value = f.name.replace(/\.wasm$/, "");
  });
  await refreshPlugins();
}

async function refreshPlugins() {
  const r = await api("GET", "plugins");
  const list = $("plugins-list");
  if (!list) return;
  if (!r.ok) { message(errorText(r)); return; }
  state.plugins = r.data.plugins;
  const rows = r.data.plugins.map((p) => h("tr", { "data-plugin": p.name },
    h("td", {}, h("strong", {}, p.name), h("div", { class: "muted mono" }, p.path)),
    h("td", { class: "mono" }, p.version),
    h("td", { class: "time" }, fmtTime(p.loaded_at)),
    h("td", {}, p.rpcs.length ? p.rpcs.map((x) => h("span", { class: "tag" + (x.server_only ? " server" : ""), title: x.server_only ? "server-only: refused for users" : null },
      x.id + (x.server_only ? " (server-only)" : ""))) : h("span", { class: "empty" }, "none")),
    h("td", {}, p.routes.length ? p.routes.map((x) => h("span", { class: "tag" }, x)) : h("span", { class: "empty" }, "none")),
    h("td", { class: "num" }, p.instances),
    h("td", {}, p.last_error ? h("span", { class: "error" }, p.last_error.error) : h("span", { class: "tag ok" }, "none")),
    h("td", {}, h("button", { type: "button", class: "danger", "aria-label": "Remove plugin " + p.name, onclick: () => removePlugin(p.name) }, "Remove"))));
  list.replaceChildren(
    h("table", { id: "plugins-table" },
      h("thead", {}, h("tr", {}, ["Name", "Version", "Loaded", "RPCs", "Routes", "Instances", "Last error", ""].map((t) => h("th", {}, t)))),
      h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: 8, class: "empty" }, "No plugin is loaded.")))),
    h("h2", {}, "Files failing to load"), failingTable(r.data.errors));
}

function reloadMessage(r, verb) {
  if (r.ok) {
    const d = r.data;
    message(verb + ": loaded [" + d.loaded.join(", ") + "], removed [" + d.removed.join(", ") + "].", true);
  } else if (r.status === 422 && r.data.failed) {
    message("Refused, the serving version is unchanged: " + r.data.failed.map((f) => f.plugin + ": " + f.error).join("; "));
  } else {
    message(verb + " failed: " + errorText(r));
  }
}

async function uploadPlugin(ev) {
  ev.preventDefault();
  const name = $("upload-name").value.trim(), file = $("upload-file").files[0];
  if (!name || !file) { message("Choose a plugin name and a .wasm file."); return; }
  $("upload-submit").disabled = true;
  const r = await api("PUT", "plugins/" + encodeURIComponent(name), await file.arrayBuffer());
  $("upload-submit").disabled = false;
  reloadMessage(r, "Deployed " + name);
  await refreshPlugins();
}

async function reloadPlugins() {
  const r = await api("POST", "plugins/reload", {});
  reloadMessage(r, "Reloaded");
  await refreshPlugins();
}

async function removePlugin(name) {
  if (!confirm("Remove plugin " + name + "? Its RPCs and routes stop serving and its manifest (grants, limits) is deleted; its database is kept.")) return;
  const r = await api("DELETE", "plugins/" + encodeURIComponent(name));
  reloadMessage(r, "Removed " + name);
  await refreshPlugins();
}

// ---- API explorer ----

async function explorerPage(root) {
  title(root, "API explorer");
  const r = await api("GET", "plugins");
  const opts = [];
  if (r.ok) for (const p of r.data.plugins) for (const x of p.rpcs) opts.push(h("option", { value: x.id }, x.id + " — " + p.name + (x.server_only ? " (server-only)" : "")));
  const form = h("form", { id: "explorer-form" },
    h("div", { class: "toolbar" },
      h("div", { class: "field" }, h("label", { for: "explorer-rpc" }, "RPC"), h("select", { id: "explorer-rpc" }, opts)),
      h("fieldset", {}, h("legend", {}, "Call as"), h("div", { class: "row" },
        h("label", {}, h("input", { type: "radio", name: "as", value: "server", id: "as-server", checked: true }), " the server (HTTP key)"),
        h("label", {}, h("input", { type: "radio", name: "as", value: "user", id: "as-user" }), " a user"))),
      h("div", { class: "field grow" }, h("label", { for: "explorer-user" }, "User ID"),
        h("input", { id: "explorer-user", class: "mono", placeholder: "UUID of the user", disabled: true })),
      h("label", { class: "row" }, h("input", { type: "checkbox", id: "explorer-unwrap", checked: true }), " unwrap (raw payload and answer)")),
    h("div", { class: "row" },
      h("div", { class: "field grow" }, h("label", { for: "explorer-payload" }, "Payload"),
        h("textarea", { id: "explorer-payload", spellcheck: "false" }, '{"hello":"world"}')),
      h("div", { class: "field grow" }, h("label", { for: "explorer-vars" }, "Session vars (key=value, one per line)"),
        h("textarea", { id: "explorer-vars", spellcheck: "false", disabled: true }))),
    h("p", {}, h("button", { id: "explorer-submit", type: "submit", class: "primary" }, "Call"), " ",
      h("span", { class: "muted" }, "Ctrl+Enter in a text box calls too.")),
    h("section", { id: "explorer-answer", class: "answer", "aria-live": "polite" }));
  root.append(form);
  const asUser = () => $("as-user").checked;
  for (const id of ["as-server", "as-user"]) $(id).addEventListener("change", () => { $("explorer-user").disabled = !asUser(); $("explorer-vars").disabled = !asUser(); });
  form.addEventListener("keydown", (ev) => { if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); form.requestSubmit(); } });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const vars = {};
    for (const line of $("explorer-vars").value.split("\n")) {
      const i = line.indexOf("=");
      if (line.trim() && i > 0) vars[line.slice(0, i).trim()] = line.slice(i + 1);
    }
    $("explorer-submit").disabled = true;
    const res = await api("POST", "call", { rpc: $("explorer-rpc").value, payload: $("explorer-payload").value,
      unwrap: $("explorer-unwrap").checked, user_id: asUser() ? $("explorer-user").value.trim() : "", vars: asUser() ? vars : null });
    $("explorer-submit").disabled = false;
    const out = $("explorer-answer");
    if (!res.ok) { out.replaceChildren(h("p", { class: "error", role: "alert" }, errorText(res))); return; }
    const a = res.data;
    out.replaceChildren(h("div", { class: "meta" },
      h("span", {}, "Status ", h("span", { id: "explorer-status", class: "tag " + (a.status < 400 ? "ok" : "bad") }, String(a.status))),
      h("span", {}, "Plugin ", h("span", { id: "explorer-plugin", class: "mono" }, a.plugin || "none")),
      h("span", {}, "Duration ", h("span", { id: "explorer-duration" }, a.duration_ms.toFixed(2) + " ms")),
      h("span", { class: "muted mono" }, a.request)),
      h("pre", { class: "body", id: "explorer-body", tabindex: "0" }, a.body + (a.truncated ? "\n… (truncated)" : "")));
  });
}

// ---- logs ----

function stopTail() { if (state.tail) { state.tail.close(); state.tail = null; } }

function logsPage(root) {
  title(root, "Logs");
  const form = h("form", { class: "toolbar", id: "logs-form" },
    h("div", { class: "field" }, h("label", { for: "logs-level" }, "Level at least"),
      h("select", { id: "logs-level" }, ["debug", "info", "warn", "error"].map((l) => h("option", { value: l, selected: l === "info" }, l)))),
    h("div", { class: "field" }, h("label", { for: "logs-plugin" }, "Plugin"), h("input", { id: "logs-plugin", placeholder: "any" })),
    h("div", { class: "field" }, h("label", { for: "logs-rpc" }, "RPC"), h("input", { id: "logs-rpc", placeholder: "any" })),
    h("button", { type: "submit", class: "primary", id: "logs-apply" }, "Apply filter"),
    h("button", { type: "button", id: "logs-pause", "aria-pressed": "false" }, "Pause"),
    h("button", { type: "button", id: "logs-clear" }, "Clear"),
    h("span", { id: "logs-state", class: "muted", role: "status" }));
  const list = h("div", { id: "logs-list", class: "logs", tabindex: "0", "aria-label": "Log lines" });
  root.append(form, list);
  let paused = false;
  form.addEventListener("submit", (ev) => { ev.preventDefault(); startTail(); });
  for (const id of ["logs-level"]) $(id).addEventListener("change", startTail);
  $("logs-pause").addEventListener("click", (ev) => { paused = !paused; ev.target.textContent = paused ? "Resume" : "Pause"; ev.target.setAttribute("aria-pressed", String(paused)); });
  $("logs-clear").addEventListener("click", () => list.replaceChildren());
  function startTail() {
    stopTail();
    list.replaceChildren();
    const q = new URLSearchParams({ level: $("logs-level").value, plugin: $("logs-plugin").value.trim(), rpc: $("logs-rpc").value.trim() });
    const es = new EventSource("api/logs?" + q);
    state.tail = es;
    es.onopen = () => { $("logs-state").textContent = "live"; };
    es.onerror = () => { $("logs-state").textContent = "reconnecting…"; };
    es.onmessage = (ev) => { if (!paused) appendLine(list, ev.data); };
  }
  startTail();
}

function appendLine(list, raw) {
  let e;
  try { e = JSON.parse(raw); } catch (err) { e = { message: raw }; }
  const { level, time, message: msg, ...rest } = e;
  delete rest.node;
  const kv = Object.entries(rest).map(([k, v]) => k + "=" + (typeof v === "string" ? v : JSON.stringify(v))).join(" ");
  const atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 4;
  list.append(h("div", { class: "line" }, h("span", { class: "ts" }, time || ""), h("span", { class: "lvl " + (level || "") }, level || ""),
    h("span", { class: "msg" }, msg || ""), " ", h("span", { class: "kv" }, kv)));
  while (list.childElementCount > 1000) list.firstElementChild.remove();
  if (atBottom) list.scrollTop = list.scrollHeight;
}

// ---- accounts ----

function accountsPage(root) {
  title(root, "Accounts");
  const form = h("form", { class: "toolbar", id: "accounts-form" },
    h("div", { class: "field grow" }, h("label", { for: "accounts-q" }, "User ID or username"), h("input", { id: "accounts-q", class: "mono", required: true })),
    h("button", { type: "submit", class: "primary", id: "accounts-find" }, "Find"));
  const out = h("div", { id: "account-view" });
  root.append(form, out);
  form.addEventListener("submit", (ev) => { ev.preventDefault(); showAccount($("accounts-q").value.trim()); });
}

async function showAccount(q) {
  const out = $("account-view");
  const r = await api("GET", "accounts?q=" + encodeURIComponent(q));
  if (!r.ok) { out.replaceChildren(h("p", { class: "error", role: "alert" }, errorText(r))); return; }
  const a = r.data.account, ss = r.data.sessions;
  const row = (k, v) => h("tr", {}, h("th", { scope: "row" }, k), h("td", { class: "mono" }, v || "—"));
  const revoke = async (tokenID) => {
    const what = tokenID ? "session " + tokenID : "every session of " + a.Username;
    if (!confirm("Revoke " + what + "? The client's next call is refused.")) return;
    const res = await api("POST", "accounts/" + encodeURIComponent(a.UserID) + "/revoke", { token_id: tokenID });
    if (res.ok) message("Revoked " + what + ".", true); else message("Revoke failed: " + errorText(res));
    await showAccount(a.UserID);
  };
  out.replaceChildren(
    h("h2", {}, "Account"),
    h("table", { id: "account-table" }, h("tbody", {}, row("User ID", a.UserID), row("Username", a.Username), row("Custom ID", a.CustomID),
      row("Email", a.Email), row("Devices", (a.DeviceIDs || []).join(", ")), row("Created", fmtTime(a.CreateTime)))),
    h("h2", {}, "Sessions"),
    h("p", {}, h("button", { type: "button", class: "danger", id: "revoke-all", onclick: () => revoke("") }, "Revoke all sessions")),
    h("table", { id: "sessions-table" },
      h("thead", {}, h("tr", {}, ["Token ID", "Issued", "Session expires", "Refresh expires", "Client address", "State", ""].map((t) => h("th", {}, t)))),
      h("tbody", {}, ss.length ? ss.map((s) => h("tr", { "data-token": s.token_id },
        h("td", { class: "mono" }, s.token_id), h("td", { class: "time" }, fmtTime(s.issued_at)), h("td", { class: "time" }, fmtTime(s.expires_at)),
        h("td", { class: "time" }, fmtTime(s.refresh_expires_at)), h("td", { class: "mono" }, s.client_addr),
        h("td", {}, s.revoked ? h("span", { class: "tag bad" }, "revoked") : h("span", { class: "tag ok" }, "active")),
        h("td", {}, s.revoked ? "" : h("button", { type: "button", class: "danger", "aria-label": "Revoke session " + s.token_id, onclick: () => revoke(s.token_id) }, "Revoke"))))
        : h("tr", {}, h("td", { colspan: 7, class: "empty" }, "No unexpired session.")))));
}

// ---- audit ----

// The audit page's views (the API's kind); the first is the default:
// failed sign-ins, which anyone can make, are counted there, not listed.
const auditViews = [
  ["default", "Operator activity", "Changes, sign-ins and sign-outs; failed sign-ins are counted, not listed"],
  ["changes", "Changes", "Uploads, reloads, removals, explorer calls, revocations"],
  ["sign-ins", "Sign-ins", "Sign-ins, successful and failed, and sign-outs"],
  ["failed-sign-ins", "Failed sign-ins", "Refused sign-ins only"],
  ["all", "All", "Every entry"],
];

// auditPage shows the audit log a page at a time (Older / Newer follow the
// API's cursors) in the view the buttons above the table choose.
function auditPage(root) {
  title(root, "Audit log");
  // q is the page shown; older and newer are the API's cursors next to it.
  const q = { kind: "default", before: "", after: "", actor: "", target: "" };
  let older = "", newer = "", loads = 0;
  const views = h("div", { class: "seg", role: "group", "aria-labelledby": "audit-kinds-label", id: "audit-kinds" },
    auditViews.map(([kind, label, hint]) => h("button", { type: "button", "data-kind": kind, title: hint, "aria-pressed": String(kind === q.kind),
      onclick: () => show(kind) }, label)));
  const limit = h("select", { id: "audit-limit" }, [10, 50, 200].map((n) => h("option", { value: n, selected: n === 50 }, n)));
  limit.addEventListener("change", () => { q.before = q.after = ""; load(); });
  const filter = h("form", { class: "filter", id: "audit-filter", "aria-label": "Filter by who or target" },
    h("div", { class: "field" }, h("label", { for: "audit-filter-by" }, "Filter by"),
      h("select", { id: "audit-filter-by" }, h("option", { value: "actor" }, "Who"), h("option", { value: "target" }, "Target"))),
    h("div", { class: "field" }, h("label", { for: "audit-filter-value" }, "Exactly"),
      h("input", { id: "audit-filter-value", class: "mono", maxlength: 256, placeholder: "e.g. admin or echo" })),
    h("button", { type: "submit", id: "audit-filter-apply" }, "Filter"),
    h("button", { type: "button", id: "audit-filter-clear", onclick: () => { $("audit-filter-value").value = ""; filter.requestSubmit(); } }, "Clear"));
  filter.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const v = $("audit-filter-value").value.trim(), by = $("audit-filter-by").value;
    q.actor = by === "actor" ? v : "";
    q.target = by === "target" ? v : "";
    q.before = q.after = "";
    load();
  });
  const hidden = h("p", { id: "audit-hidden", class: "notice", role: "status", hidden: true });
  const table = h("div", { id: "audit-view" });
  const pager = h("nav", { class: "pager", "aria-label": "Audit log pages" },
    h("button", { type: "button", id: "audit-newest", onclick: () => { q.before = q.after = ""; load(); } }, "Newest"),
    h("button", { type: "button", id: "audit-newer", onclick: () => { q.after = newer; q.before = ""; load(); } }, "← Newer"),
    h("button", { type: "button", id: "audit-older", onclick: () => { q.before = older; q.after = ""; load(); } }, "Older →"),
    h("span", { id: "audit-range", class: "muted" }));
  root.append(h("div", { class: "toolbar" }, h("div", { class: "field" }, h("span", { class: "label", id: "audit-kinds-label" }, "Show"), views),
    h("div", { class: "field" }, h("label", { for: "audit-limit" }, "Per page"), limit), filter), hidden, table, pager);

  function show(kind) {
    q.kind = kind;
    q.before = q.after = "";
    for (const b of views.children) b.setAttribute("aria-pressed", String(b.dataset.kind === kind));
    load();
  }

  async function load() {
    const params = new URLSearchParams({ kind: q.kind, limit: limit.value });
    if (q.before) params.set("before", q.before);
    if (q.after) params.set("after", q.after);
    if (q.actor) params.set("actor", q.actor);
    if (q.target) params.set("target", q.target);
    const seq = ++loads, fromPager = pager.contains(document.activeElement);
    const r = await api("GET", "audit?" + params);
    if (seq !== loads || !document.body.contains(table)) return; // a later load, or another page, took over
    if (!r.ok) { message(errorText(r)); return; }
    clearMessage();
    const p = r.data;
    older = p.older;
    newer = p.newer;
    table.replaceChildren(h("table", { id: "audit-table", tabindex: "-1" },
      h("caption", { class: "visually-hidden" }, "Audit log: " + auditViews.find((v) => v[0] === q.kind)[1] +
        (q.actor ? ", by " + q.actor : "") + (q.target ? ", on " + q.target : "")),
      h("thead", {}, h("tr", {}, ["When", "Who", "From", "Action", "Target", "Detail", "Outcome"].map((t) => h("th", {}, t)))),
      h("tbody", {}, p.entries.length ? p.entries.map((e) => h("tr", { "data-kind": e.kind }, h("td", { class: "time" }, fmtTime(e.at)), h("td", {}, e.actor),
        h("td", { class: "mono" }, e.client_addr), h("td", { class: "mono" }, e.action), h("td", { class: "mono" }, e.target), h("td", {}, e.detail),
        h("td", { class: /^(refused|failed|started)/.test(e.outcome) ? "error" : "" }, e.outcome)))
        : h("tr", {}, h("td", { colspan: 7, class: "empty" }, "No entry.")))));
    const n = p.failed_sign_ins_hidden;
    hidden.hidden = !n;
    hidden.replaceChildren(n ? h("span", {}, "Not listed: " + n + (p.failed_sign_ins_capped ? "+" : "") + " failed sign-in" + (n === 1 ? "" : "s") +
      (q.actor ? " as " + q.actor : "") + " in the time this page covers. ") : "",
      n ? h("button", { type: "button", class: "link", id: "audit-show-failed", onclick: () => show("failed-sign-ins") }, "Show failed sign-ins") : "");
    $("audit-older").disabled = !p.older;
    $("audit-newer").disabled = !p.newer;
    $("audit-newest").disabled = !q.before && !q.after;
    $("audit-range").textContent = p.entries.length ? fmtTime(p.entries[p.entries.length - 1].at) + " to " + fmtTime(p.entries[0].at) : "";
    // A pager button that has just been disabled drops the focus: keep it on the entries.
    const f = document.activeElement;
    if (fromPager && (!f || f === document.body || f.disabled)) $("audit-table").focus();
  }
  load();
}

// ---- start ----

window.addEventListener("hashchange", route);
document.addEventListener("DOMContentLoaded", async () => {
  $("signin-form").addEventListener("submit", signIn);
  $("signout").addEventListener("click", signOut);
  const r = await api("GET", "me");
  if (r.ok) showApp(r.data); else showSignIn("");
});
