/* Check a draft: debounced calls to POST /v1/hints as the person types. */
"use strict";
(() => {
  const S = Screener;
  const select = document.getElementById("doc-type");
  const draft = document.getElementById("draft");
  const status = document.getElementById("status");
  const gradeBox = document.getElementById("grade");
  const legend = document.getElementById("legend");
  const preview = document.getElementById("preview");
  const flagsList = document.getElementById("flags");
  let rubric = null;
  let seq = 0;
  let inflight = null;

  function markerIndex(docType, marker) {
    const list = (rubric && rubric.doc_types[docType] && rubric.doc_types[docType].markers) || [];
    const i = list.indexOf(marker);
    return (i < 0 ? 0 : i) % 8;
  }

  function labelOf(marker) {
    return (rubric && rubric.markers[marker] && rubric.markers[marker].label) || S.label(marker);
  }

  function clear(msg) {
    gradeBox.replaceChildren(S.el("p", { class: "muted" }, msg));
    legend.replaceChildren();
    preview.replaceChildren();
    flagsList.replaceChildren();
  }

  function render(text, h) {
    const levels = h.levels;
    const best = h.grade;
    gradeBox.replaceChildren(
      S.el("p", {}, "Likely grade: ", S.el("span", { class: "big", id: "grade-value" }, S.label(best)),
        " (" + S.pct(h.grade_probabilities[best] || 0) + ")"),
      S.el("ul", { class: "probs", "aria-label": "Grade probabilities" },
        levels.map((l) => S.el("li", {}, S.label(l) + ": " + S.pct(h.grade_probabilities[l] || 0)))));

    const cls = (hl) => "hl m" + markerIndex(h.doc_type, hl.markers[0]) + (hl.kind === "concern" ? " concern" : "");
    const title = (hl) => hl.markers.map(labelOf).join(", ");
    preview.replaceChildren(S.highlighted(text, h.highlights, cls, title));

    const found = h.markers.filter((m) => m.present);
    legend.replaceChildren(...found.map((m) => S.el("li", {},
      S.el("mark", { class: "hl m" + markerIndex(h.doc_type, m.marker) + (m.negative ? " concern" : "") }, m.label),
      m.negative ? " (a concern)" : " found")));
    if (!found.length) legend.append(S.el("li", { class: "muted" }, "No markers found yet."));

    flagsList.replaceChildren(...h.flags.map((f) => S.el("li", { "data-marker": f.marker, "data-kind": f.kind },
      S.el("span", { class: "sev " + f.severity }, f.severity),
      S.el("strong", {}, f.label), f.kind === "concern" ? " — found in your text" : " — missing",
      S.el("p", {}, f.message),
      f.evidence.length ? S.el("p", {}, "In your text: ",
        f.evidence.map((e, i) => [i ? ", " : "", S.el("q", {}, e.text)])) : null,
      S.el("details", {}, S.el("summary", {}, "What good looks like"), S.el("p", {}, f.guidance)))));
    if (!h.flags.length) flagsList.append(S.el("li", {}, "Nothing missing for this record type."));
  }

  async function check() {
    const text = draft.value;
    const mine = ++seq;
    if (inflight) inflight.abort();
    if (!text.trim()) { S.setStatus(status, ""); clear("Start typing to see hints."); return; }
    inflight = new AbortController();
    S.setStatus(status, "Checking…");
    try {
      const h = await S.api("/v1/hints", { method: "POST", body: { doc_type: select.value, text },
                                           signal: inflight.signal });
      if (mine !== seq) return;  // the text changed while we waited
      render(text, h);
      S.setStatus(status, "Hints up to date (" + h.flags.length + " flag" + (h.flags.length === 1 ? "" : "s") + ").", "ok");
    } catch (e) {
      if (e.name === "AbortError" || mine !== seq) return;
      S.setStatus(status, e.message, "bad");
    }
  }

  const later = S.debounce(check, 400);

  async function start() {
    if (!S.token()) return;
    try {
      rubric = await S.api("/v1/markers");
    } catch (e) { S.setStatus(status, e.message, "bad"); return; }
    const last = sessionStorage.getItem("screener.doc_type");
    for (const [dt, spec] of Object.entries(rubric.doc_types)) {
      select.append(S.el("option", { value: dt, selected: dt === last }, spec.label));
    }
    select.addEventListener("change", () => { sessionStorage.setItem("screener.doc_type", select.value); check(); });
    draft.addEventListener("input", later);
    if (draft.value.trim()) check();
  }
  start();
})();
