/*
 * Progressive enhancement for the Atlas's server-rendered pages. Every page works without
 * this file: charts are drawn from data tables that stay in the page, maps from GeoJSON that
 * is also listed as plain links. Chart.js and Leaflet are vendored copies, loaded only on
 * pages that have something for them to draw; nothing is fetched from another host unless a
 * map container names its own tile server in data-tiles.
 */
(function () {
  "use strict";

  // The script element carries the URLs of the vendored libraries and a few localised labels,
  // so that this file needs neither template rendering nor hard-coded paths.
  var self = document.currentScript || document.querySelector("script[data-atlas]");
  var config = (self && self.dataset) || {};

  // ---------------------------------------------------------------- loading

  var loading = {};

  function loadScript(src) {
    if (!src) {
      return Promise.reject(new Error("no URL for a vendored script"));
    }
    if (!loading[src]) {
      loading[src] = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = src;
        script.async = true;
        script.onload = function () { resolve(); };
        script.onerror = function () { reject(new Error("could not load " + src)); };
        document.head.appendChild(script);
      });
    }
    return loading[src];
  }

  function loadStylesheet(href) {
    if (!href || document.querySelector('link[href="' + href + '"]')) {
      return;
    }
    var link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = href;
    document.head.appendChild(link);
  }

  function reducedMotion() {
    return window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  }

  function textOf(element) {
    return element ? element.textContent.replace(/\s+/g, " ").trim() : "";
  }

  // ---------------------------------------------------------------- charts

  // Distinct hues that keep at least 3:1 against white, the WCAG floor for graphics.
  var PALETTE = ["#0b5394", "#b35900", "#00703c", "#942514", "#5a3e99", "#006f7a", "#6b4c00", "#505050"];

  function number(cell) {
    if (!cell || !cell.hasAttribute("data-value")) {
      return null;
    }
    var raw = cell.getAttribute("data-value").trim();
    if (raw === "") {
      return null;
    }
    var value = Number(raw);
    return Number.isFinite(value) ? value : null;
  }

  // Reads a contract table: header cells after the first name the series, each body row's
  // header names the x label, and its cells hold the numbers in data-value.
  function tableData(table) {
    var headRow = table.tHead && table.tHead.rows[0];
    if (!headRow) {
      return null;
    }
    var series = [];
    for (var c = 1; c < headRow.cells.length; c++) {
      series.push({ label: textOf(headRow.cells[c]), data: [] });
    }
    var labels = [];
    var bodies = table.tBodies;
    for (var b = 0; b < bodies.length; b++) {
      var rows = bodies[b].rows;
      for (var r = 0; r < rows.length; r++) {
        var cells = rows[r].cells;
        if (!cells.length) {
          continue;
        }
        labels.push(textOf(cells[0]));
        for (var s = 0; s < series.length; s++) {
          series[s].data.push(number(cells[s + 1]));
        }
      }
    }
    if (!labels.length || !series.length) {
      return null;
    }
    return { labels: labels, series: series };
  }

  function chartLabel(table) {
    var figure = table.closest("figure");
    var caption = figure && figure.querySelector("figcaption");
    var text = textOf(caption) || textOf(table.caption) || textOf(table.tHead.rows[0].cells[0]);
    var suffix = config.chartLabel || "";
    return suffix ? text + " (" + suffix + ")" : text;
  }

  function drawChart(table) {
    var data = tableData(table);
    if (!data) {
      return;
    }
    var kind = table.getAttribute("data-chart");
    var stacked = kind === "stacked-bar";
    var type = kind === "line" ? "line" : "bar";

    // A scrolling wrapper around the table moves with it.
    var block = table.parentNode.classList.contains("table-wrap") ? table.parentNode : table;
    var holder = document.createElement("div");
    holder.className = "chart-canvas";
    var canvas = document.createElement("canvas");
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", chartLabel(table));
    // Fallback content for the rare browser without canvas: the table is right after.
    canvas.textContent = config.chartFallback || "";
    holder.appendChild(canvas);
    block.parentNode.insertBefore(holder, block);

    // The table stays in the page, folded under a disclosure so the chart leads visually.
    if (config.tableLabel && block.parentNode.tagName !== "DETAILS") {
      var details = document.createElement("details");
      var summary = document.createElement("summary");
      summary.textContent = config.tableLabel;
      details.appendChild(summary);
      block.parentNode.insertBefore(details, block);
      details.appendChild(block);
    }

    var datasets = data.series.map(function (serie, index) {
      var colour = PALETTE[index % PALETTE.length];
      return {
        label: serie.label,
        data: serie.data,
        borderColor: colour,
        backgroundColor: type === "line" ? colour : colour + "cc",
        borderWidth: 2,
        pointRadius: 3,
        spanGaps: true,
        tension: 0
      };
    });

    // Counts get whole-number ticks; measurements keep whatever precision they have.
    var whole = data.series.every(function (serie) {
      return serie.data.every(function (value) { return value === null || Number.isInteger(value); });
    });

    /* global Chart */
    new Chart(canvas, {
      type: type,
      data: { labels: data.labels, datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: reducedMotion() ? false : { duration: 300 },
        plugins: {
          legend: { display: datasets.length > 1, labels: { color: "#1b1b1b" } }
        },
        scales: {
          x: { stacked: stacked, ticks: { color: "#1b1b1b" } },
          y: {
            stacked: stacked,
            beginAtZero: type === "bar",
            ticks: { color: "#1b1b1b", precision: whole ? 0 : undefined }
          }
        }
      }
    });
  }

  function initCharts() {
    var tables = document.querySelectorAll("table[data-chart]");
    if (!tables.length) {
      return;
    }
    loadScript(config.chartSrc).then(function () {
      for (var i = 0; i < tables.length; i++) {
        try {
          drawChart(tables[i]);
        } catch (error) {
          // One broken table must not cost the others their chart; the table still shows.
          if (window.console) { window.console.error(error); }
        }
      }
    }, function (error) {
      if (window.console) { window.console.error(error); }
    });
  }

  // ---------------------------------------------------------------- maps

  // Only links within this site go into popups, whatever the data says.
  function safeUrl(url) {
    if (typeof url !== "string" || url === "") {
      return null;
    }
    try {
      var parsed = new URL(url, window.location.href);
      return parsed.origin === window.location.origin ? parsed.href : null;
    } catch (error) {
      return null;
    }
  }

  function popupFor(properties) {
    var box = document.createElement("div");
    var href = safeUrl(properties.url);
    var name = document.createElement(href ? "a" : "strong");
    name.textContent = properties.name || "";
    if (href) {
      name.href = href;
    }
    box.appendChild(name);
    if (typeof properties.count === "number" && config.countLabel) {
      var count = document.createElement("div");
      count.textContent = config.countLabel.replace("%s", String(properties.count));
      box.appendChild(count);
    }
    return box;
  }

  function radiusFor(count, largest) {
    if (!(count > 0)) {
      return 5;
    }
    // Area grows with the count, so the radius with its square root.
    return 6 + 16 * Math.sqrt(count / Math.max(largest, 1));
  }

  function drawMap(container) {
    var source = document.getElementById(container.getAttribute("data-geojson"));
    if (!source) {
      return;
    }
    var collection = JSON.parse(source.textContent);
    var features = (collection && collection.features) || [];
    var largest = 0;
    features.forEach(function (feature) {
      var count = feature.properties && feature.properties.count;
      if (typeof count === "number" && count > largest) {
        largest = count;
      }
    });

    /* global L */
    var tiles = container.getAttribute("data-tiles");
    var map = L.map(container, {
      attributionControl: Boolean(tiles),
      zoomControl: false,
      scrollWheelZoom: false,
      worldCopyJump: true
    });
    L.control.zoom({
      zoomInTitle: config.zoomIn || "+",
      zoomOutTitle: config.zoomOut || "-"
    }).addTo(map);
    if (tiles) {
      L.tileLayer(tiles, {
        maxZoom: 18,
        attribution: container.getAttribute("data-tiles-attribution") || ""
      }).addTo(map);
    }

    var layer = L.geoJSON(collection, {
      style: function () {
        return { color: "#0b5394", weight: 2, fillColor: "#9ecae1", fillOpacity: 0.25 };
      },
      pointToLayer: function (feature, latlng) {
        var count = (feature.properties && feature.properties.count) || 0;
        return L.circleMarker(latlng, {
          radius: radiusFor(count, largest),
          color: "#073763",
          weight: 2,
          fillColor: "#0b5394",
          fillOpacity: 0.7
        });
      },
      onEachFeature: function (feature, featureLayer) {
        var properties = feature.properties || {};
        featureLayer.bindPopup(popupFor(properties));
        if (properties.name) {
          featureLayer.bindTooltip(properties.name);
        }
      }
    }).addTo(map);

    var bounds = layer.getBounds();
    if (bounds.isValid()) {
      var single = bounds.getNorthEast().equals(bounds.getSouthWest());
      if (single) {
        map.setView(bounds.getCenter(), 9);
      } else {
        map.fitBounds(bounds, { padding: [24, 24], maxZoom: 10 });
      }
    } else {
      map.setView([30, 0], 2);
    }
  }

  function initMaps() {
    var containers = document.querySelectorAll(".atlas-map[data-geojson]");
    if (!containers.length) {
      return;
    }
    loadStylesheet(config.leafletCss);
    loadScript(config.leafletSrc).then(function () {
      for (var i = 0; i < containers.length; i++) {
        try {
          drawMap(containers[i]);
        } catch (error) {
          if (window.console) { window.console.error(error); }
        }
      }
    }, function (error) {
      if (window.console) { window.console.error(error); }
    });
  }

  // ---------------------------------------------------------------- error summary

  // GOV.UK pattern: the summary takes focus on load, so screen readers announce it at once,
  // and each of its links moves focus to the field it names.
  function initErrorSummary() {
    var summary = document.querySelector(".error-summary");
    if (!summary) {
      return;
    }
    if (!summary.hasAttribute("tabindex")) {
      summary.setAttribute("tabindex", "-1");
    }
    summary.focus();
    summary.addEventListener("click", function (event) {
      var link = event.target.closest && event.target.closest("a[href^='#']");
      if (!link) {
        return;
      }
      var target = document.getElementById(decodeURIComponent(link.getAttribute("href").slice(1)));
      if (!target) {
        return;
      }
      event.preventDefault();
      var label = document.querySelector("label[for='" + target.id + "']");
      (label || target).scrollIntoView();
      target.focus({ preventScroll: true });
    });
  }

  // ---------------------------------------------------------------- start

  function start() {
    initErrorSummary();
    initCharts();
    initMaps();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
