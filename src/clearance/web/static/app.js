// clearance: the little the pages need beyond htmx. Loaded with <script src> (the CSP
// allows no inline script); every page works without it, this only makes forms kinder.
(function () {
  "use strict";

  // New request: show the fields of the chosen action only. A hidden group is also
  // disabled, so its inputs are neither required nor sent.
  function showActionFields(form) {
    var chosen = form.querySelector('input[name="action"]:checked');
    if (!chosen) {
      return;
    }
    form.querySelectorAll("fieldset[data-action]").forEach(function (group) {
      var on = group.getAttribute("data-action") === chosen.value;
      group.hidden = !on;
      group.disabled = !on;
    });
  }

  // Capture phase: runs before htmx reads the form for the screening preview.
  document.addEventListener(
    "change",
    function (event) {
      var target = event.target;
      if (target && target.name === "action" && target.form) {
        showActionFields(target.form);
      }
    },
    true
  );

  // A link to one bundle (#bundle-2025-05-01) or policy opens its folded policy text.
  function openTarget() {
    if (!location.hash) {
      return;
    }
    var target = document.getElementById(decodeURIComponent(location.hash.slice(1)));
    var inside = target && (target.querySelector("details") || target.closest("details"));
    if (inside) {
      inside.open = true;
    }
  }
  window.addEventListener("hashchange", openTarget);

  // A table wider than the screen scrolls sideways inside its .table-wrap. A wrap that
  // scrolls is made a region in the tab order, named by its table's caption, so that it can
  // be scrolled from the keyboard and is announced when reached (WCAG 2.1.1); one that fits
  // is left out of the tab order, where it would be a stop that does nothing.
  function reachWideTables() {
    document.querySelectorAll(".table-wrap").forEach(function (wrap) {
      if (wrap.scrollWidth > wrap.clientWidth) {
        var caption = wrap.querySelector("caption");
        wrap.tabIndex = 0;
        wrap.setAttribute("role", "region");
        wrap.setAttribute("aria-label", caption ? caption.textContent.trim() : "Table");
      } else {
        wrap.removeAttribute("tabindex");
        wrap.removeAttribute("role");
        wrap.removeAttribute("aria-label");
      }
    });
  }
  window.addEventListener("resize", reachWideTables);
  document.addEventListener("htmx:afterSettle", reachWideTables);
  document.addEventListener("toggle", reachWideTables, true); // a table in opened <details>

  document.addEventListener("DOMContentLoaded", function () {
    openTarget();
    reachWideTables();
    var form = document.getElementById("request-form");
    if (form) {
      showActionFields(form);
    }
    // An error on the page after a POST: move focus to it so it is read out first.
    var error = document.getElementById("answer-error");
    if (error) {
      error.focus();
    }
  });
})();
