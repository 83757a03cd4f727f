/* Audit queue: GET /v1/queue. */
"use strict";
(() => {
  const S = Screener;
  const form = document.getElementById("queue-filter");
  const status = document.getElementById("status");
  const tbody = document.querySelector("#queue tbody");

  async function load() {
    const q = new URLSearchParams({ limit: "200" });
    for (const name of ["team", "service"]) {
      const v = form.elements[name].value.trim();
      if (v) q.set(name, v);
    }
    if (form.elements.include_reviewed.checked) q.set("include_reviewed", "true");
    S.setStatus(status, "Loading…");
    try {
      const data = await S.api("/v1/queue?" + q.toString());
      tbody.replaceChildren(...data.files.map((f, i) => S.el("tr", {},
        S.el("td", { class: "num" }, i + 1),
        S.el("td", {}, S.el("a", { href: "/files/" + encodeURIComponent(f.file_id) }, f.pseudonym)),
        S.el("td", {}, f.child), S.el("td", {}, f.team || "—"), S.el("td", {}, f.service || "—"),
        S.el("td", { class: "num" }, f.n_records),
        S.el("td", { class: "num" }, S.pct(f.p_below_good)),
        S.el("td", { class: "num" }, S.pct(f.p_inadequate)),
        S.el("td", {}, f.why + (f.reviewed ? " (reviewed)" : "")))));
      S.setStatus(status, data.total === 0 ? "No files to review." :
        "Showing " + data.files.length + " of " + data.total + " file(s).");
    } catch (e) { S.setStatus(status, e.message, "bad"); }
  }

  form.addEventListener("submit", (ev) => { ev.preventDefault(); load(); });
  if (S.token()) load();
})();
