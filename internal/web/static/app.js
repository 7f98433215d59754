// Enhancements only: every page works without this file.
"use strict";
// Grids of links (the heatmap) are one tab stop: Tab enters at the current cell, the arrow keys,
// Home and End move inside, Enter follows the link (the WAI-ARIA grid pattern, roving tabindex).
document.querySelectorAll("table[data-grid]").forEach(function (table) {
  var rows = Array.prototype.map.call(table.tBodies[0].rows, function (tr) {
    return Array.prototype.slice.call(tr.querySelectorAll("td a"));
  });
  var all = [].concat.apply([], rows);
  if (!all.length) return;
  all.forEach(function (a) { a.tabIndex = -1; });
  all[0].tabIndex = 0;
  table.addEventListener("keydown", function (e) {
    var r = -1, c = -1;
    rows.forEach(function (row, i) { var j = row.indexOf(document.activeElement); if (j >= 0) { r = i; c = j; } });
    if (r < 0) return;
    var moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    var nr = r, nc = c;
    if (moves[e.key]) { nr += moves[e.key][0]; nc += moves[e.key][1]; }
    else if (e.key === "Home") nc = 0;
    else if (e.key === "End") nc = rows[r].length - 1;
    else return;
    e.preventDefault();
    nr = Math.max(0, Math.min(rows.length - 1, nr));
    nc = Math.max(0, Math.min(rows[nr].length - 1, nc));
    rows[r][c].tabIndex = -1;
    rows[nr][nc].tabIndex = 0;
    rows[nr][nc].focus();
  });
});
// The onboarding wizard: the identifier (slug) follows the name until the operator edits it, and
// is checked live (GET /admin/tenants/slug). Without JavaScript, a blank slug is the server's
// suggestion from the name.
(function () {
  var form = document.querySelector("form[data-slug-check]");
  if (!form) return;
  var name = form.elements.name, slug = form.elements.slug, out = document.getElementById("slug-status");
  var edited = slug.value !== "", timer = 0, seq = 0;
  function check() {
    if (!slug.value && !name.value) { out.textContent = ""; slug.setCustomValidity(""); return; }
    var q = edited ? "slug=" + encodeURIComponent(slug.value) : "name=" + encodeURIComponent(name.value);
    var n = ++seq;
    fetch(form.getAttribute("data-slug-check") + "?" + q, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (a) {
        if (!a || n !== seq) return;
        if (!edited) slug.value = a.slug;
        out.textContent = a.slug && !edited ? a.slug + " — " + a.message : a.message;
        out.className = "small " + (a.free ? "ok" : "danger");
        slug.setCustomValidity(a.free ? "" : a.message);
      })
      .catch(function () { });
  }
  function later() { clearTimeout(timer); timer = setTimeout(check, 250); }
  name.addEventListener("input", function () { if (!edited) later(); });
  slug.addEventListener("input", function () { edited = slug.value !== ""; later(); });
  if (name.value || slug.value) check();
})();
// Inbox pickers (the onboarding wizard, a client's inbox mapping): the search box filters the
// inboxes as you type, accents and case ignored, every word must match (data-text is folded by
// the server); an account with nothing left is hidden. Without JavaScript the box is a GET filter.
document.querySelectorAll("[data-inbox-filter]").forEach(function (box) {
  var input = box.querySelector("[data-filter-input]");
  if (!input) return;
  var button = box.querySelector("[data-filter-button]");
  if (button) button.remove(); // Enter must not submit the filter: the list follows the typing
  var select = box.querySelector("[data-filter-select]");
  var empty = box.querySelector("[data-filter-empty]");
  function fold(s) { return s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase(); }
  function apply() {
    var words = fold(input.value).split(/\s+/).filter(Boolean), shown = 0;
    box.querySelectorAll("[data-filter-item]").forEach(function (el) {
      var text = el.getAttribute("data-text") || "";
      var ok = words.every(function (w) { return text.indexOf(w) >= 0; });
      el.hidden = !ok;
      if (ok && !(el.tagName === "OPTION" && el.disabled)) shown++;
    });
    box.querySelectorAll("[data-filter-group]").forEach(function (g) {
      g.hidden = !g.querySelector("[data-filter-item]:not([hidden])");
    });
    if (empty) empty.hidden = shown > 0;
    if (select) {
      var cur = select.selectedOptions[0];
      if (!cur || cur.hidden || cur.disabled) {
        var first = select.querySelector("option[data-filter-item]:not([hidden]):not([disabled])");
        if (first) select.value = first.value;
      }
      select.disabled = shown === 0;
    }
  }
  input.addEventListener("input", apply);
  input.addEventListener("keydown", function (e) { if (e.key === "Enter") e.preventDefault(); });
  apply();
});
// A client logo that does not load (a wrong or vanished address) gives way to the client's name,
// as the page shows when no logo is set; without this script the browser shows the alt text.
document.querySelectorAll("img.client-logo").forEach(function (img) {
  function fallback() {
    var name = document.createElement("span");
    name.className = "client-name";
    name.textContent = img.alt;
    img.replaceWith(name);
  }
  if (img.complete && img.naturalWidth === 0) fallback();
  else img.addEventListener("error", fallback);
});
