"use strict";
(() => {
  const form = document.getElementById("signin-form");
  const input = document.getElementById("token");
  const error = document.getElementById("signin-error");
  const HOME = { manager: "/check", auditor: "/queue", researcher: "/docs", admin: "/check" };

  function nextPage(role) {
    const next = new URLSearchParams(window.location.search).get("next") || "";
    // Only a path on this site: never //host or a scheme.
    if (/^\/(?![\/\\])/.test(next) && !next.startsWith("/signin")) return next;
    return HOME[role] || "/check";
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.textContent = "";
    const tok = input.value.trim();
    if (!tok) { error.textContent = "Enter your access token."; input.focus(); return; }
    try {
      const me = await Screener.api("/v1/me", { token: tok });
      Screener.signIn(tok, me);
      window.location.assign(nextPage(me.role));
    } catch (e) {
      error.textContent = e.status === 401 ? "That token is not valid (or has been revoked)." : e.message;
      input.focus();
    }
  });
  input.focus();
})();
