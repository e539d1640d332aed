// Draws every <canvas class="chart"> from its data-* attributes (JSON): data-labels, and either data-values with
// data-colours (one series) or data-datasets [{label, values, colour}] (several, stacked when data-stacked is set).
"use strict";
document.querySelectorAll("canvas.chart").forEach(function (canvas) {
  if (typeof Chart === "undefined") { return; }
  const labels = JSON.parse(canvas.getAttribute("data-labels") || "[]");
  const type = canvas.getAttribute("data-chart") || "bar";
  const stacked = canvas.hasAttribute("data-stacked");
  let datasets;
  if (canvas.hasAttribute("data-datasets")) {
    datasets = JSON.parse(canvas.getAttribute("data-datasets")).map(function (d) {
      return { label: d.label, data: d.values, backgroundColor: d.colour };
    });
  } else {
    const values = JSON.parse(canvas.getAttribute("data-values") || "[]");
    const colours = JSON.parse(canvas.getAttribute("data-colours") || "[]");
    datasets = [{ data: values, backgroundColor: colours.length === 1 ? colours[0] : colours }];
  }
  const scales = stacked ? { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } : undefined;
  new Chart(canvas, {
    type: type,
    data: { labels: labels, datasets: datasets },
    options: { responsive: true, maintainAspectRatio: false, animation: false, scales: scales,
      plugins: { legend: { display: type !== "bar" || datasets.length > 1 } } },
  });
});
