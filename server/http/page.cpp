// The page at "/": one document with its style and script inline. It reads
// /api/info, /api/clients and /api/objects every second and renders them
// with textContent only, so names from clients are never taken as markup.
#include "routes.hpp"

namespace mpshare::server::http {

const std::string& page_html() {
  static const std::string page = R"html(<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mpshare server</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
header{background:#1d2330;color:#fff;padding:10px 20px;display:flex;gap:20px;align-items:baseline}
header h1{font-size:18px;margin:0}
#status{margin-left:auto;font-size:12px;opacity:.8}
#status.error{color:#ff8a80;opacity:1}
main{padding:12px 20px}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin-bottom:14px}
.card{background:#fff;border:1px solid #dde1e7;border-radius:6px;padding:8px 12px;min-width:110px}
.card b{display:block;font-size:20px}
.card span{font-size:12px;color:#5b6475}
h2{font-size:15px;margin:18px 0 6px}
table{border-collapse:collapse;background:#fff;width:100%;font-size:13px}
th,td{border:1px solid #dde1e7;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eef1f5;font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.held{background:#fff4d6}
.empty{color:#5b6475;font-style:italic}
</style></head>
<body>
<header><h1>mpshare server</h1><span id="version"></span><span id="uptime"></span>
<span id="status">loading&hellip;</span></header>
<main>
<div class="cards" id="cards"></div>
<h2>Objects</h2><div id="objects" class="empty">none</div>
<h2>Clients</h2><div id="clients" class="empty">none</div>
</main>
<script>
"use strict";
// The documents are mpshare's introspection JSON (mpshare/introspect.hpp).
const $ = (id) => document.getElementById(id);
async function get(path) {
  const r = await fetch(path, {cache: "no-store"});
  if (!r.ok) throw new Error(path + ": HTTP " + r.status);
  return r.json();
}
function bytes(n) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; ++i; }
  return (i ? n.toFixed(1) : String(n)) + " " + units[i];
}
function duration(s) {
  if (s < 60) return s.toFixed(s < 10 ? 1 : 0) + " s";
  if (s < 3600) return Math.floor(s / 60) + " min " + Math.floor(s % 60) + " s";
  if (s < 86400) return Math.floor(s / 3600) + " h " + Math.floor(s % 3600 / 60) + " min";
  return Math.floor(s / 86400) + " d " + Math.floor(s % 86400 / 3600) + " h";
}
function holder(h) {
  let t = "session " + h.session + (h.pid ? " (pid " + h.pid + ")" : "");
  if (h.what === "lock" || h.what === "shared_lock")
    t += h.token ? " token " + h.token : "";
  else
    t += ": " + h.count + " " + h.what;
  if (h.what === "lock" && h.count > 1) t += " \u00d7" + h.count;
  return t;
}
function waiter(w) {
  return "session " + w.session + " " + w.op + " " + duration(w.waiting_s);
}
function held(c) {
  let t = c.kind + " '" + c.object + "'";
  if (c.token) t += " token " + c.token;
  if (c.what !== "lock" && c.count) t += ": " + c.count + " " + c.what;
  return t;
}
function waiting(c) {
  return c.what + " on " + c.kind + " '" + c.object + "' " + duration(c.waiting_s);
}
function state(m) {
  return Object.entries(m || {}).map(([k, v]) => k + " " + v).join(", ");
}
// Fills the element `id` with a table of `list`: columns are [title, key,
// function of an item giving a string or a number].
function table(id, list, columns) {
  const el = $(id);
  el.replaceChildren();
  if (!list.length) { el.className = "empty"; el.textContent = "none"; return; }
  el.className = "";
  const t = document.createElement("table");
  const head = t.createTHead().insertRow();
  for (const [title] of columns) {
    const th = document.createElement("th");
    th.textContent = title;
    head.appendChild(th);
  }
  const body = t.createTBody();
  for (const item of list) {
    const tr = body.insertRow();
    tr.dataset.name = String(item.name !== undefined ? item.name : item.session);
    for (const [, key, get] of columns) {
      const td = tr.insertCell();
      const v = get(item);
      td.textContent = Array.isArray(v) ? v.join("; ") : String(v);
      td.dataset.col = key;
      if (typeof v === "number") td.className = "num";
      if (key === "holders" && v.length) td.className = "held";
    }
  }
  el.appendChild(t);
}
function cards(info) {
  $("version").textContent = "version " + info.version + ", pid " + info.pid;
  $("uptime").textContent = "up " + duration(info.uptime_s);
  const el = $("cards");
  el.replaceChildren();
  const shown = [
    ["sessions", info.sessions], ["objects", info.objects],
    ["requests", info.requests], ["requests/s", info.request_rate.toFixed(1)],
    ["memory", bytes(info.memory_rss_bytes)], ["in", bytes(info.bytes_in)],
    ["out", bytes(info.bytes_out)], ["auth failures", info.auth_failures]];
  for (const [label, value] of shown) {
    const d = document.createElement("div");
    d.className = "card";
    d.dataset.key = label;
    const b = document.createElement("b");
    b.textContent = String(value);
    const s = document.createElement("span");
    s.textContent = label;
    d.append(b, s);
    el.appendChild(d);
  }
}
const objectColumns = [
  ["name", "name", (o) => o.name], ["kind", "kind", (o) => o.kind],
  ["type", "type", (o) => o.type], ["size", "size", (o) => o.size],
  ["holder", "holders", (o) => o.holders.map(holder)],
  ["waiters", "waiters", (o) => o.waiters.length ? o.waiters.length + ": " +
      o.waiters.map(waiter).join("; ") : ""],
  ["state", "state", (o) => state(o.state)]];
const clientColumns = [
  ["session", "session", (c) => c.session], ["peer", "peer", (c) => c.peer],
  ["connected", "connected", (c) => duration(c.connected_s)],
  ["requests", "requests", (c) => c.requests],
  ["in / out", "bytes", (c) => bytes(c.bytes_in) + " / " + bytes(c.bytes_out)],
  ["holds", "holds", (c) => c.holds.map(held)],
  ["waits on", "waits", (c) => c.waits.map(waiting)]];
async function refresh() {
  try {
    const [info, clients, objects] = await Promise.all(
        [get("/api/info"), get("/api/clients"), get("/api/objects")]);
    cards(info);
    table("objects", objects.objects, objectColumns);
    table("clients", clients.clients, clientColumns);
    $("status").className = "";
    $("status").textContent = "updated " + new Date().toLocaleTimeString();
  } catch (e) {
    $("status").className = "error";
    $("status").textContent = "cannot read the server: " + e.message;
  } finally {
    setTimeout(refresh, 1000);
  }
}
refresh();
</script>
</body></html>
)html";
  return page;
}

}  // namespace mpshare::server::http
