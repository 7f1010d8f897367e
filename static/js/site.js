// Small behaviours shared by every page, written here rather than inline so that the
// Content-Security-Policy can forbid inline scripts and handlers.
(function () {
  "use strict";

  // <select data-autosubmit>: submit the form as soon as the choice changes.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () {
      select.form.submit();
    });
  });

  // <input type="checkbox" data-select-all="NAME">: tick or untick every box named NAME.
  document.querySelectorAll("input[data-select-all]").forEach(function (master) {
    const name = master.getAttribute("data-select-all");
    master.addEventListener("change", function () {
      document.querySelectorAll('input[name="' + name + '"]').forEach(function (box) {
        box.checked = master.checked;
      });
    });
  });

  // <body data-reload-after="SECONDS">: a page showing work in progress refreshes itself.
  const reload = Number(document.body.getAttribute("data-reload-after"));
  if (reload > 0) {
    setTimeout(function () {
      window.location.reload();
    }, reload * 1000);
  }

  // <details data-fold-on-phone>: open on a wide screen, folded on a phone so that the
  // list it sits above is on the first screen.
  if (window.matchMedia("(max-width: 700px)").matches) {
    document.querySelectorAll("details[data-fold-on-phone]").forEach(function (box) {
      box.open = false;
    });
  }

  // The top bar's menu button on narrow screens.
  const toggle = document.getElementById("menu-toggle");
  const menu = document.getElementById("topbar-menu");
  if (toggle && menu) {
    toggle.addEventListener("click", function () {
      const open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      menu.classList.toggle("open", open);
    });
  }
})();
