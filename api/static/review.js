/* Review a file: GET /v1/files/{id}; POST /v1/files/{id}/reviews (and moderation). */
"use strict";
(() => {
  const S = Screener;
  const root = document.getElementById("file");
  const fileId = root.dataset.fileId;
  const status = document.getElementById("status");
  const title = document.getElementById("file-title");
  const CHOICES = [["none", "No decision"], ["confirmed", "Confirm"], ["rejected", "Reject"], ["corrected", "Correct"]];
  let rubric = null;
  let me = null;

  const labelOf = (m) => (rubric.markers[m] && rubric.markers[m].label) || S.label(m);
  const isNegative = (m) => !!(rubric.markers[m] && rubric.markers[m].negative);
  const typeLabel = (dt) => (rubric.doc_types[dt] && rubric.doc_types[dt].label) || S.label(dt);
  const when = (iso) => new Date(iso).toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short" });

  function gradeSelect(id, current, withBlank) {
    const opts = withBlank ? [S.el("option", { value: "" }, "Not yet")] : [];
    for (const l of rubric.levels) opts.push(S.el("option", { value: l, selected: l === current }, S.label(l)));
    return S.el("select", { id }, opts);
  }

  function prevText(d) {
    if (!d) return "";
    return "Your decision: " + d.decision + (d.corrected_value ? " (" + d.corrected_value + ")" : "") + ", " + when(d.at);
  }

  function flagFieldset(rec, flag, prev, ev) {
    const base = "r" + rec.id + "-" + flag.marker;
    const corrected = S.el("div", { class: "field", hidden: !(prev && prev.decision === "corrected") },
      S.el("label", { for: base + "-value" }, "What is wrong with the flag?"),
      S.el("input", { type: "text", id: base + "-value", value: (prev && prev.corrected_value) || "" }));
    const radios = CHOICES.map(([value, text]) => S.el("label", {},
      S.el("input", { type: "radio", name: base, value,
                      checked: prev ? prev.decision === value : value === "none",
                      onchange: () => { corrected.hidden = value !== "corrected"; } }), text));
    return S.el("fieldset", { "data-marker": flag.marker, class: "flag" },
      S.el("legend", {}, S.el("span", { class: "sev " + flag.severity }, flag.severity), labelOf(flag.marker)),
      S.el("p", {}, flag.message),
      ev.length ? S.el("p", {}, "Evidence: ", ev.map((e, i) => [i ? ", " : "", S.el("q", {}, e.text)])) : null,
      S.el("div", { class: "choices" }, radios),
      corrected,
      S.el("p", { class: "prev", "data-prev": flag.marker }, prevText(prev)));
  }

  function recordCard(rec) {
    const res = rec.result;
    const mine = rec.reviews.find((rv) => rv.auditor === me.name) || null;
    const head = [
      S.el("h2", { id: "rec-" + rec.id }, typeLabel(rec.doc_type)),
      S.el("p", { class: "meta" }, [rec.record_date || "undated", rec.team, rec.worker && "by " + rec.worker,
                                    "record " + rec.key].filter(Boolean).join(" · ")),
    ];
    if (!res) return S.el("article", { class: "card record" }, head, S.el("p", {}, "Not screened yet."));

    const spans = [];
    for (const [m, v] of Object.entries(res.markers)) {
      if (!v.present) continue;
      for (const e of v.evidence || []) spans.push({ start: e.start, end: e.end, marker: m });
    }
    const negative = new Set(Object.keys(res.markers).filter(isNegative));
    const order = Object.keys(res.markers);
    const segs = S.segments(Array.from(rec.text).length, spans, negative);
    const cls = (h) => "hl m" + (Math.max(0, order.indexOf(h.markers[0])) % 8) + (h.kind === "concern" ? " concern" : "");
    const text = S.el("div", { class: "preview", tabindex: "0", role: "region", "aria-label": "Record text, evidence highlighted" },
      S.highlighted(rec.text, segs, cls, (h) => h.markers.map(labelOf).join(", ")));

    const flagged = new Set(res.flags.map((f) => f.marker));
    const decisions = mine ? mine.decisions : {};
    const fieldsets = res.flags.map((f) => flagFieldset(rec, f, decisions[f.marker],
      (res.markers[f.marker] && res.markers[f.marker].present && res.markers[f.marker].evidence) || []));
    const unflagged = order.filter((m) => !flagged.has(m));
    const addId = "r" + rec.id + "-add";
    const add = S.el("div", { class: "field" },
      S.el("label", { for: addId }, "Add a problem the screener missed (optional)"),
      S.el("select", { id: addId }, S.el("option", { value: "" }, "None"),
        unflagged.map((m) => S.el("option", { value: m }, labelOf(m)))));
    const gradeId = "r" + rec.id + "-grade", commentId = "r" + rec.id + "-comment";
    const saveStatus = S.el("p", { class: "status", role: "status", "aria-live": "polite" },
      mine && mine.completed ? "Reviewed: final grade " + S.label(mine.grade) + "." : "");
    const form = S.el("form", { class: "review-form", "data-record-id": rec.id },
      S.el("h3", {}, "Flags (" + res.flags.length + ")"),
      fieldsets.length ? fieldsets : S.el("p", {}, "No flags on this record."),
      add,
      S.el("div", { class: "field" }, S.el("label", { for: gradeId }, "Final grade"),
        gradeSelect(gradeId, mine && mine.grade, true)),
      S.el("div", { class: "field" }, S.el("label", { for: commentId }, "Comment"),
        S.el("textarea", { id: commentId, rows: "4" }, (mine && mine.comment) || "")),
      S.el("button", { type: "submit", class: "primary" }, "Save review"),
      saveStatus);
    form.addEventListener("submit", (ev) => { ev.preventDefault(); save(rec, form, saveStatus, decisions); });

    const others = rec.reviews.filter((rv) => rv.completed && rv.auditor !== me.name);
    const moderation = others.map((rv) => moderationForm(rec, rv));

    return S.el("article", { class: "card record", "aria-labelledby": "rec-" + rec.id }, head,
      S.el("p", {}, "Screener's grade: ", S.el("strong", {}, S.label(res.grade)),
        " (" + S.pct(res.grade_probabilities[res.grade] || 0) + "), " + res.mode + " mode"),
      S.el("div", { class: "record-grid" },
        S.el("div", {}, S.el("h3", {}, "Text"), text),
        S.el("div", {}, form, moderation)));
  }

  async function save(rec, form, out, decisions) {
    const body = { record_id: rec.id, decisions: [] };
    for (const fs of form.querySelectorAll("fieldset.flag")) {
      const marker = fs.dataset.marker;
      const picked = fs.querySelector("input[type=radio]:checked");
      if (!picked || picked.value === "none") continue;
      const d = { marker, decision: picked.value };
      if (picked.value === "corrected") d.corrected_value = fs.querySelector("input[type=text]").value.trim();
      const prev = decisions[marker];
      if (prev && prev.decision === d.decision && (prev.corrected_value || "") === (d.corrected_value || "")) continue;
      body.decisions.push(d);
    }
    const added = form.querySelector("#r" + rec.id + "-add").value;
    if (added) body.decisions.push({ marker: added, decision: "added" });
    const grade = form.querySelector("#r" + rec.id + "-grade").value;
    if (grade) body.grade = grade;
    const comment = form.querySelector("#r" + rec.id + "-comment").value;
    if (comment.trim()) body.comment = comment;
    if (!body.decisions.length && !body.grade && !body.comment) {
      S.setStatus(out, "Nothing to save: choose a decision, a grade or write a comment.", "bad");
      return;
    }
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    S.setStatus(out, "Saving…");
    try {
      const rv = await S.api("/v1/files/" + encodeURIComponent(fileId) + "/reviews", { method: "POST", body });
      for (const [m, d] of Object.entries(rv.decisions)) {
        decisions[m] = d;
        const p = form.querySelector('[data-prev="' + CSS.escape(m) + '"]');
        if (p) p.textContent = prevText(d);
      }
      S.setStatus(out, "Saved: " + body.decisions.length + " decision(s)" +
        (rv.completed ? "; final grade " + S.label(rv.grade) : "") + ".", "ok");
    } catch (e) {
      S.setStatus(out, "Not saved: " + e.message, "bad");
    } finally { button.disabled = false; }
  }

  function moderationForm(rec, rv) {
    const id = "m" + rv.id;
    const out = S.el("p", { class: "status", role: "status", "aria-live": "polite" });
    const mine = rv.moderations.find((m) => m.moderator === me.name);
    const form = S.el("form", { class: "card" },
      S.el("h3", {}, "Moderate " + rv.auditor + "'s review (grade " + S.label(rv.grade) + ")"),
      S.el("div", { class: "field" }, S.el("label", { for: id + "-grade" }, "Your grade"),
        gradeSelect(id + "-grade", mine && mine.grade, false)),
      S.el("div", { class: "field" }, S.el("label", { for: id + "-comment" }, "Comment"),
        S.el("textarea", { id: id + "-comment", rows: "3" }, (mine && mine.comment) || "")),
      S.el("button", { type: "submit" }, "Save moderation"), out);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const body = { grade: form.querySelector("#" + id + "-grade").value };
      const c = form.querySelector("#" + id + "-comment").value;
      if (c.trim()) body.comment = c;
      try {
        await S.api("/v1/files/" + encodeURIComponent(fileId) + "/reviews/" + rv.id + "/moderation", { method: "POST", body });
        S.setStatus(out, "Moderation saved.", "ok");
      } catch (e) { S.setStatus(out, "Not saved: " + e.message, "bad"); }
    });
    return form;
  }

  async function start() {
    if (!S.header(true)) return;
    me = S.who();
    S.setStatus(status, "Loading…");
    try {
      const [r, file] = await Promise.all([S.api("/v1/markers"), S.api("/v1/files/" + encodeURIComponent(fileId))]);
      rubric = r;
      title.textContent = "Review file " + file.pseudonym;
      document.title = "Review file " + file.pseudonym + " · Case-record screener";
      root.replaceChildren(S.el("p", { class: "meta" }, "Child " + file.child + " · " + file.records.length + " record(s)"),
        ...file.records.map(recordCard));
      S.setStatus(status, "");
    } catch (e) { S.setStatus(status, e.message, "bad"); }
  }
  start();
})();
