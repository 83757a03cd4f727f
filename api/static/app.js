/* Shared by every page: the token (sessionStorage only), API calls, and safe rendering.
   No framework and no network beyond this service. */
"use strict";

const Screener = (() => {
  const KEY = "screener.token";
  const WHO = "screener.who";

  function token() { return sessionStorage.getItem(KEY); }

  function who() {
    try { return JSON.parse(sessionStorage.getItem(WHO) || "null"); } catch (e) { return null; }
  }

  function signIn(tok, me) {
    sessionStorage.setItem(KEY, tok);
    sessionStorage.setItem(WHO, JSON.stringify(me));
  }

  function signOut() {
    sessionStorage.removeItem(KEY);
    sessionStorage.removeItem(WHO);
    window.location.assign("/signin");
  }

  function toSignIn() {
    const next = window.location.pathname + window.location.search;
    window.location.assign("/signin?next=" + encodeURIComponent(next));
  }

  /* The message of an error response: FastAPI's detail, a string or a list of fields. */
  function message(status, body) {
    if (body && typeof body.detail === "string") return body.detail;
    if (body && Array.isArray(body.detail)) {
      return body.detail.map((d) => (d.loc || []).filter((p) => p !== "body").join(".") + ": " + d.msg).join("; ");
    }
    return "request failed (" + status + ")";
  }

  class ApiError extends Error {
    constructor(status, msg) { super(msg); this.status = status; }
  }

  /* Call the API with the bearer token. 401 sends the person to sign in again. */
  async function api(path, options) {
    const opts = options || {};
    const tok = opts.token || token();
    if (!tok) { toSignIn(); throw new ApiError(401, "not signed in"); }
    const headers = { "Authorization": "Bearer " + tok, "Accept": "application/json" };
    let body;
    if (opts.body !== undefined) { headers["Content-Type"] = "application/json"; body = JSON.stringify(opts.body); }
    const res = await fetch(path, { method: opts.method || "GET", headers, body, signal: opts.signal });
    let data = null;
    if (res.status !== 204) { try { data = await res.json(); } catch (e) { data = null; } }
    if (res.status === 401 && !opts.token) { signOut(); throw new ApiError(401, message(401, data)); }
    if (!res.ok) throw new ApiError(res.status, message(res.status, data));
    return data;
  }

  /* Make an element: el("p", {class: "x"}, "text", child, ...). Text is never parsed as HTML. */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (v === true) node.setAttribute(k, "");
      else node.setAttribute(k, String(v));
    }
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  /* The text with highlights as <mark>s. Offsets count code points (as the server's
     Python does), so the text is split with Array.from, not by UTF-16 units. */
  function highlighted(text, spans, classOf, titleOf) {
    const cps = Array.from(text);
    const frag = document.createDocumentFragment();
    let pos = 0;
    const sorted = [...spans].sort((a, b) => a.start - b.start);
    for (const h of sorted) {
      const start = Math.max(h.start, pos), end = Math.min(h.end, cps.length);
      if (end <= start) continue;
      if (start > pos) frag.append(cps.slice(pos, start).join(""));
      frag.append(el("mark", { class: classOf(h), "data-markers": h.markers.join(" "), title: titleOf(h) },
        cps.slice(start, end).join("")));
      pos = end;
    }
    if (pos < cps.length) frag.append(cps.slice(pos).join(""));
    return frag;
  }

  /* Non-overlapping highlights from (start, end, marker) spans, split at every edge. */
  function segments(n, spans, negative) {
    const edges = [...new Set([0, n, ...spans.flatMap((s) => [s.start, s.end])])]
      .filter((x) => x >= 0 && x <= n).sort((a, b) => a - b);
    const out = [];
    for (let i = 0; i + 1 < edges.length; i++) {
      const a = edges[i], b = edges[i + 1];
      const markers = [...new Set(spans.filter((s) => s.start <= a && b <= s.end).map((s) => s.marker))].sort();
      if (!markers.length) continue;
      const last = out[out.length - 1];
      if (last && last.end === a && last.markers.join() === markers.join()) { last.end = b; continue; }
      out.push({ start: a, end: b, markers, kind: markers.some((m) => negative.has(m)) ? "concern" : "found" });
    }
    return out;
  }

  function pct(x) { return Math.round(x * 100) + "%"; }

  function label(s) { return String(s).replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase()); }

  function debounce(fn, ms) {
    let t = null;
    return (...args) => { clearTimeout(t); t = setTimeout(() => fn(...args), ms); };
  }

  function setStatus(node, text, kind) {
    node.textContent = text;
    node.className = "status" + (kind ? " " + kind : "");
  }

  /* Show who is signed in; pages that need a token send the person to sign in. */
  function header(needsToken) {
    const me = who();
    if (token() && me) {
      document.getElementById("who-name").textContent = me.name + " (" + me.role + ")";
      document.getElementById("who").hidden = false;
      document.getElementById("signout").addEventListener("click", signOut);
    } else if (needsToken) {
      toSignIn();
      return false;
    }
    return true;
  }

  return { api, ApiError, debounce, el, header, highlighted, label, pct, segments, setStatus,
           signIn, signOut, token, who };
})();

document.addEventListener("DOMContentLoaded", () => {
  const page = document.body.dataset.page;
  Screener.header(page === "check" || page === "queue");
});
