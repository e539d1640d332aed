// assist: the import page follows a running import (progress bar and counts) by polling its JSON status.
"use strict";
(function () {
  const box = document.getElementById("import-progress");
  if (!box || box.getAttribute("data-finished") === "true") {
    return;
  }
  const url = box.getAttribute("data-status-url");
  const bar = document.getElementById("import-bar");
  function show(status) {
    const percent = Math.max(0, Math.min(100, Number(status.progress) || 0));
    bar.style.width = percent + "%";
    bar.textContent = percent + "%";
    bar.parentElement.setAttribute("aria-valuenow", String(percent));
    box.querySelectorAll("[data-count]").forEach(function (cell) {
      const value = status[cell.getAttribute("data-count")];
      if (value !== undefined) {
        cell.textContent = String(value);
      }
    });
  }
  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        return response.ok ? response.json() : Promise.reject(response.status);
      })
      .then(function (status) {
        show(status);
        if (status.status === "done" || status.status === "failed") {
          // the finished page lists the rejected rows and the downloads
          window.location.reload();
        } else {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () {
        window.setTimeout(poll, 3000);
      });
  }
  window.setTimeout(poll, 500);
})();
