/* The comparison ("/compare?runs=1,2,..."): two to six runs side by side, one colour each.
 * Their losses overlaid, their grids under one shared epoch slider, and a table of config,
 * verdicts and latest numbers with the differences marked: the article's experiments at a
 * glance. */
(function (GW) {
  "use strict";
  const { h } = GW;
  GW.views = GW.views || {};

  const MAX_RUNS = 6;
  const CHARTS = [
    ["loss/g", "Generator loss"],
    ["loss/d_real", "Discriminator loss (real)"],
    ["loss/d_fake", "Discriminator loss (fake)"],
    ["d/fake", "D(G(z)): D's output on fakes"],
  ];
  const CONFIG_ROWS = [
    ["preset", "Preset"], ["dataset", "Dataset"], ["latent_dim", "Latent dim"], ["lr", "Learning rate"],
    ["beta1", "Adam β1"], ["beta2", "Adam β2"], ["batch_size", "Batch"], ["d_steps", "D steps (k)"],
    ["train_size", "Train size"], ["seed", "Seed"], ["model", "Model"],
  ];
  const LAST_ROWS = [
    ["loss/g", "G loss"], ["loss/d_real", "D loss (real)"], ["loss/d_fake", "D loss (fake)"],
    ["d/real", "D(x)"], ["d/fake", "D(G(z))"], ["speed/images_per_s", "Images / s"],
  ];

  function parseIds(value) {
    const ids = [];
    for (const part of String(value || "").split(",")) {
      const t = part.trim();
      if (/^\d{1,18}$/.test(t) && !ids.includes(t)) ids.push(t);
    }
    return ids;
  }

  /** One x axis for all runs (the union of their steps); each run's column has gaps elsewhere. */
  function overlay(runs, key) {
    const xs = new Set();
    runs.forEach((r) => r.steps.steps.forEach((s) => xs.add(s)));
    const x = [...xs].sort((a, b) => a - b);
    const index = new Map(x.map((s, i) => [s, i]));
    const cols = runs.map((r) => {
      const col = new Array(x.length).fill(null);
      const values = r.steps.series[key] || [];
      r.steps.steps.forEach((s, i) => { col[index.get(s)] = values[i] === undefined ? null : values[i]; });
      return col;
    });
    return [x, cols];
  }

  GW.views.compare = function (main, source, params) {
    let disposed = false;
    let stopPoll = () => {};
    const ids = parseIds(params.get("runs"));
    const shown = ids.slice(0, MAX_RUNS);
    const runs = [];
    const charts = [];
    const players = [];
    let smoothing = 0.6;

    GW.clear(main);
    main.appendChild(h("p", { class: "loading", text: "Loading runs…" }));
    document.title = "Compare · ganwatch";

    const go = (list) => {
      const href = source.href(list.length ? `/compare?runs=${list.join(",")}` : "/compare");
      if (source.mode === "report") location.hash = href.slice(1); else location.assign(href);
    };

    function chip(run, i) {
      const swatch = h("span", { class: "run-swatch" });
      swatch.style.background = GW.PALETTE[i];
      return h("span", { class: "run-chip", data: { runId: run.detail.id } }, swatch,
        h("a", { href: source.href(`/runs/${run.detail.id}`), text: run.detail.name }),
        h("span", { class: "run-id", text: `#${run.detail.id}` }),
        GW.verdictBadge(run.detail.verdict),
        h("button", { class: "btn tiny ghost", text: "×", attrs: { type: "button", title: "Remove from the comparison", "aria-label": `Remove run ${run.detail.id}` }, on: { click: () => go(shown.filter((x) => x !== String(run.detail.id))) } }));
    }

    async function picker() {
      const all = await source.runs();
      const options = all.filter((r) => !shown.includes(String(r.id)));
      if (!options.length || shown.length >= MAX_RUNS) return null;
      const sel = h("select", { attrs: { "aria-label": "Add a run" } },
        h("option", { attrs: { value: "" }, text: "+ add a run…" }),
        options.map((r) => h("option", { attrs: { value: String(r.id) }, text: `#${r.id} ${r.name}` })));
      sel.addEventListener("change", () => { if (sel.value) go([...shown, sel.value]); });
      return sel;
    }

    function lastRow(label, values, better) {
      const finite = values.filter((v) => v !== null && v !== undefined && Number.isFinite(v));
      const best = better && finite.length > 1 ? (better === "lower" ? Math.min(...finite) : Math.max(...finite)) : null;
      return h("tr", null, h("th", { text: label }), values.map((v) => h("td", { class: `num${best !== null && v === best ? " best" : ""}`, text: GW.num(v, 4) })));
    }

    function metricsTable() {
      const details = runs.map((r) => r.detail);
      const head = h("tr", null, h("th"), details.map((d, i) => {
        const sw = h("span", { class: "run-swatch" });
        sw.style.background = GW.PALETTE[i];
        return h("th", null, sw, d.name);
      }));
      const rows = [];
      rows.push(h("tr", null, h("th", { text: "Status" }), details.map((d) => h("td", null, GW.statusBadge(d.status, d.stale)))));
      rows.push(h("tr", null, h("th", { text: "Verdict" }), details.map((d) => h("td", null, GW.verdictBadge(d.verdict)))));
      rows.push(h("tr", null, h("th", { text: "Progress" }), details.map((d) => h("td", { class: "num", text: `epoch ${d.epochs_done}${d.epochs_total ? `/${d.epochs_total}` : ""} · step ${GW.int(d.step)}` }))));
      rows.push(h("tr", { class: "section" }, h("th", { attrs: { colspan: details.length + 1 }, text: "Config" })));
      for (const [key, label] of CONFIG_ROWS) {
        const values = details.map((d) => (d.config || {})[key]);
        if (values.every((v) => v === undefined)) continue;
        const differs = new Set(values.map((v) => JSON.stringify(v))).size > 1;
        rows.push(h("tr", { class: differs ? "differs" : "" }, h("th", { text: label }), values.map((v) => h("td", { class: "num", text: v === null || v === undefined ? "–" : String(v) }))));
      }
      rows.push(h("tr", { class: "section" }, h("th", { attrs: { colspan: details.length + 1 }, text: "Last epoch" })));
      for (const [key, label] of LAST_ROWS) rows.push(lastRow(label, details.map((d) => (d.last || {})[key]), null));
      const metricKeys = [...new Set(details.flatMap((d) => Object.keys(d.metrics || {})))].sort();
      if (metricKeys.length) {
        rows.push(h("tr", { class: "section" }, h("th", { attrs: { colspan: details.length + 1 }, text: "Metrics (latest evaluation; best in bold)" })));
        for (const key of metricKeys) {
          const info = GW.metricInfo(key);
          rows.push(lastRow(info.label, details.map((d) => ((d.metrics || {})[key] || {}).value), info.better));
        }
      }
      return h("table", { class: "compare-table", attrs: { id: "compare-table" } }, h("thead", null, head), h("tbody", null, rows));
    }

    const tableSlot = h("div", { class: "table-scroll" });
    const chartRow = h("div", { class: "compare-charts", attrs: { id: "compare-losses" } });

    function buildCharts() {
      charts.forEach((c) => c.destroy());
      charts.length = 0;
      GW.clear(chartRow);
      for (const [key, title] of CHARTS) {
        if (!runs.some((r) => r.steps.series[key])) continue;
        const box = h("div", { class: "chart-box small", data: { key } });
        chartRow.appendChild(h("figure", { class: "metric-chart" }, h("figcaption", { text: title }), box));
        const series = runs.map((r, i) => ({ key, label: `#${r.detail.id} ${r.detail.name}`, color: GW.PALETTE[i], width: 1.6 }));
        const chart = GW.lineChart(box, { series, height: 230, spanGaps: true, smoothing, sync: "compare", scales: key.startsWith("d/") ? { y: { range: [0, 1] } } : {} });
        chart.key = key;
        charts.push(chart);
      }
      fillCharts();
    }

    function fillCharts() {
      for (const chart of charts) {
        const [x, cols] = overlay(runs, chart.key);
        chart.setData(x, cols);
      }
    }

    const epochSlider = h("input", { class: "player-slider", attrs: { type: "range", min: 1, max: 1, step: 1, value: 1, "aria-label": "Epoch for all runs" } });
    const epochLabel = h("span", { class: "player-label" });
    const gridRow = h("div", { class: "compare-grids", attrs: { id: "compare-grids" } });

    function maxEpoch() {
      return Math.max(1, ...runs.map((r) => {
        const f = (r.detail.images || {}).grid || [];
        return f.length ? f[f.length - 1].epoch : 0;
      }));
    }

    function updateSlider(follow) {
      const top = maxEpoch();
      const atEnd = Number(epochSlider.value) >= Number(epochSlider.max);
      epochSlider.max = String(top);
      if (follow || atEnd) epochSlider.value = String(top);
      epochLabel.textContent = `Epoch ${epochSlider.value} of ${top} (each run shows its latest grid at or before it)`;
    }
    epochSlider.addEventListener("input", () => {
      players.forEach((p) => p.showEpoch(Number(epochSlider.value)));
      updateSlider(false);
    });

    function buildGrids() {
      GW.clear(gridRow);
      players.length = 0;
      runs.forEach((r, i) => {
        const frames = (r.detail.images || {}).grid || [];
        const player = GW.imagePlayer({ kind: "grid", title: `${r.detail.name} samples`, frames });
        players.push(player);
        const sw = h("span", { class: "run-swatch" });
        sw.style.background = GW.PALETTE[i];
        gridRow.appendChild(h("figure", { class: "compare-grid", data: { runId: r.detail.id } },
          h("figcaption", null, sw, h("a", { href: source.href(`/runs/${r.detail.id}`), text: r.detail.name }), GW.verdictBadge(r.detail.verdict)),
          player.el));
      });
      updateSlider(true);
    }

    async function load(runId) {
      const [detail, steps] = await Promise.all([source.run(runId), source.steps(runId, 0)]);
      return { detail, steps };
    }

    async function poll() {
      let changed = false;
      for (const r of runs) {
        const d = await source.run(r.detail.id);
        if (disposed) return;
        if (d.updated === r.detail.updated) continue;
        const last = r.steps.steps.length ? r.steps.steps[r.steps.steps.length - 1] : 0;
        const chunk = await source.steps(r.detail.id, last);
        if (disposed) return;
        const n = chunk.steps.length;
        for (const key of new Set([...Object.keys(r.steps.series), ...Object.keys(chunk.series)])) {
          if (!r.steps.series[key]) r.steps.series[key] = new Array(r.steps.steps.length).fill(null);
          r.steps.series[key].push(...(chunk.series[key] || new Array(n).fill(null)));
        }
        r.steps.steps.push(...chunk.steps);
        r.detail = d;
        changed = true;
      }
      if (!changed) return;
      fillCharts();
      runs.forEach((r, i) => players[i].setFrames((r.detail.images || {}).grid || []));
      updateSlider(false);
      GW.clear(tableSlot);
      tableSlot.appendChild(metricsTable());
    }

    (async () => {
      const missing = [];
      for (const runId of shown) {
        try {
          runs.push(await load(runId));
        } catch (err) {
          if (err instanceof GW.NotFound) missing.push(runId); else throw err;
        }
      }
      if (disposed) return;
      const add = await picker();
      const smooth = h("input", { attrs: { type: "range", min: 0, max: 0.99, step: 0.01, value: smoothing, "aria-label": "Smoothing" } });
      const smoothValue = h("span", { class: "small mono", text: String(smoothing) });
      smooth.addEventListener("input", () => {
        smoothing = Number(smooth.value);
        smoothValue.textContent = smooth.value;
        charts.forEach((c) => c.setSmoothing(smoothing));
      });
      GW.clear(main);
      GW.append(main, [
        h("div", { class: "page-head" },
          h("div", { class: "title-row" }, h("a", { class: "crumb", href: source.href("/"), text: "Runs" }), h("span", { class: "crumb-sep", text: "/" }), h("h1", { text: "Compare" })),
          h("div", { class: "run-chips" }, runs.map(chip), add)),
        missing.length ? h("p", { class: "notice", text: `Not in this store: run ${missing.join(", ")}.` }) : null,
        ids.length > MAX_RUNS ? h("p", { class: "notice", text: `Showing the first ${MAX_RUNS} of ${ids.length} runs.` }) : null,
        runs.length < 2 ? h("p", { class: "notice", text: "Pick at least two runs to compare: tick them in the runs list, or add them here." }) : null,
      ]);
      if (!runs.length) return;
      GW.append(main, [
        GW.card("Losses", { id: "compare-losses-card", note: "one colour per run · drag to zoom", tools: h("label", { class: "toggle slider" }, h("span", { text: "Smoothing" }), smooth, smoothValue) }, chartRow),
        GW.card("Samples", { id: "compare-samples", tools: h("div", { class: "shared-slider" }, epochSlider, epochLabel) }, gridRow),
        GW.card("Side by side", { id: "compare-metrics" }, tableSlot),
      ]);
      buildCharts();
      buildGrids();
      tableSlot.appendChild(metricsTable());
      main.dataset.ready = "true";
      if (source.live) stopPoll = GW.every(2500, poll);
    })().catch((err) => {
      if (disposed) return;
      GW.clear(main);
      GW.append(main, [h("h1", { text: "Could not load the comparison" }), h("p", { class: "muted", text: String(err.message || err) })]);
    });

    return () => {
      disposed = true;
      stopPoll();
      players.forEach((p) => p.stop());
      charts.forEach((c) => c.destroy());
    };
  };
})(window.GW = window.GW || {});
