// assist: small behaviours, loaded as a file (the CSP allows no inline script).
"use strict";
document.addEventListener("click", function (event) {
  const button = event.target.closest("[data-confirm]");
  if (button && !window.confirm(button.getAttribute("data-confirm"))) {
    event.preventDefault();
  }
});
document.querySelectorAll("[data-progress]").forEach(function (bar) {
  bar.style.width = Math.max(0, Math.min(100, Number(bar.getAttribute("data-progress")))) + "%";
});
