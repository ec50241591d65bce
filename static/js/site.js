// Every page: a sign that the site is working after a form is sent, one send per press, and the
// account menu closing when the person clicks or presses Escape elsewhere.
(function () {
  "use strict";

  const busyLabel = document.body.dataset.busyLabel || "";
  // A download (an export, a PDF) leaves the page where it is: after this long the button
  // works again, so that a person whose download failed can press it once more.
  const BUSY_MS = 10000;

  // A slow upload or a slow phone line must not look like nothing happened: the pressed button
  // shows a spinner and says "Sending…" to screen readers, and a second press does nothing (two
  // presses would post twice where the server has no other guard). The button is not disabled:
  // a disabled submitter would drop its own name and value from what the form sends.
  document.addEventListener("submit", function (event) {
    const form = event.target;
    // Forms that send themselves with fetch (chat, reveal, nearby filters) stop the event first.
    if (event.defaultPrevented || !(form instanceof HTMLFormElement) || form.method === "dialog" || form.target === "_blank") {
      return;
    }
    if (form.dataset.busy === "true") {
      event.preventDefault();
      return;
    }
    form.dataset.busy = "true";
    form.setAttribute("aria-busy", "true");
    const button = event.submitter || form.querySelector('button[type="submit"], button:not([type])');
    if (button) {
      button.classList.add("is-busy");
      button.setAttribute("aria-disabled", "true");
      if (busyLabel) {
        const note = document.createElement("span");
        note.className = "visually-hidden busy-note";
        note.setAttribute("role", "status");
        note.textContent = busyLabel;
        button.after(note);
      }
    }
    window.setTimeout(idle, BUSY_MS);
  });

  function idle() {
    document.querySelectorAll('form[data-busy="true"]').forEach(function (form) {
      delete form.dataset.busy;
      form.removeAttribute("aria-busy");
    });
    document.querySelectorAll(".is-busy").forEach(function (button) {
      button.classList.remove("is-busy");
      button.removeAttribute("aria-disabled");
    });
    document.querySelectorAll(".busy-note").forEach(function (note) {
      note.remove();
    });
  }
  // Coming back with the browser's back button shows the page as it was left, busy included.
  window.addEventListener("pageshow", idle);

  const menus = document.querySelectorAll("details.account-menu");
  document.addEventListener("click", function (event) {
    menus.forEach(function (menu) {
      if (menu.open && !menu.contains(event.target)) {
        menu.open = false;
      }
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") {
      return;
    }
    menus.forEach(function (menu) {
      if (menu.open) {
        menu.open = false;
        menu.querySelector("summary").focus();
      }
    });
  });
})();
