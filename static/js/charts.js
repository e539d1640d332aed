// Draws every <canvas class="chart"> from its data-* attributes (labels, values, colours as JSON).
"use strict";
document.querySelectorAll("canvas.chart").forEach(function (canvas) {
  if (typeof Chart === "undefined") { return; }
  const labels = JSON.parse(canvas.getAttribute("data-labels") || "[]");
  const values = JSON.parse(canvas.getAttribute("data-values") || "[]");
  const colours = JSON.parse(canvas.getAttribute("data-colours") || "[]");
  const type = canvas.getAttribute("data-chart") || "bar";
  new Chart(canvas, {
    type: type,
    data: { labels: labels, datasets: [{ data: values, backgroundColor: colours.length === 1 ? colours[0] : colours }] },
    options: { responsive: true, maintainAspectRatio: false, animation: false,
      plugins: { legend: { display: type !== "bar" } } },
  });
});
