/* Charts of the ranking boards, drawn with the vendored ECharts.
 *
 * An element  <div data-chart="history|distribution" data-chart-source="ID">  is drawn
 * from the JSON of  {{ data|json_script:"ID" }}.  Numbers arrive as strings (Decimal on
 * the server) and are turned into numbers here, for drawing only; null is a gap.
 * Tooltips are drawn on the canvas (renderMode "richText"): ECharts' HTML tooltips carry
 * style="" attributes, which the Content-Security-Policy refuses.
 */
(function () {
  "use strict";

  var RED = "#b3191e";
  var GOLD = "#d9a521";

  function num(value) {
    return value === null || value === undefined || value === "" ? null : Number(value);
  }

  function readData(el) {
    var node = document.getElementById(el.getAttribute("data-chart-source"));
    if (!node) return null;
    try {
      return JSON.parse(node.textContent);
    } catch (e) {
      return null;
    }
  }

  var builders = {
    // A branch's total (left axis, 0–100) and rank (right axis, 1 at the top).
    history: function (d) {
      return {
        tooltip: { trigger: "axis", renderMode: "richText" },
        legend: { data: [d.total_label, d.rank_label] },
        grid: { left: 48, right: 48, top: 36, bottom: 32 },
        xAxis: { type: "category", data: d.months },
        yAxis: [
          { type: "value", name: d.total_label, min: 0, max: 100 },
          { type: "value", name: d.rank_label, inverse: true, min: 1, minInterval: 1 }
        ],
        series: [
          { name: d.total_label, type: "line", data: d.totals.map(num), connectNulls: false, color: RED, symbolSize: 8 },
          { name: d.rank_label, type: "line", yAxisIndex: 1, data: d.ranks.map(num), connectNulls: false, color: GOLD, symbolSize: 8, lineStyle: { type: "dashed" } }
        ]
      };
    },
    // How many branches' totals fall in each 10-point bin.
    distribution: function (d) {
      return {
        tooltip: { trigger: "axis", renderMode: "richText" },
        grid: { left: 40, right: 16, top: 36, bottom: 32 },
        xAxis: { type: "category", data: d.labels },
        yAxis: { type: "value", minInterval: 1, name: d.series },
        series: [{ name: d.series, type: "bar", data: d.counts.map(num), color: RED, barCategoryGap: "10%" }]
      };
    }
  };

  function draw(root) {
    if (typeof window.echarts === "undefined") return;
    root.querySelectorAll("[data-chart]").forEach(function (el) {
      if (el.getAttribute("data-chart-drawn")) return;
      var build = builders[el.getAttribute("data-chart")];
      var data = readData(el);
      if (!build || !data) return;
      var chart = window.echarts.init(el);
      chart.setOption(build(data));
      el.setAttribute("data-chart-drawn", "1");
      window.addEventListener("resize", function () {
        chart.resize();
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      draw(document);
    });
  } else {
    draw(document);
  }
  // Content swapped in by htmx gets its charts too.
  document.addEventListener("htmx:load", function (event) {
    draw(event.target);
  });
})();
