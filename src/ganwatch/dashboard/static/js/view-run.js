/* A run's page ("/runs/<id>"): the article's three losses with verdict periods shaded, the
 * fixed-noise grid with an epoch slider, the NDB bins, metric charts, the diagnosis and its
 * timeline, and the config. While the run trains, new steps, epochs, pictures and verdicts
 * are fetched every two seconds and appended in place. */
(function (GW) {
  "use strict";
  const { h } = GW;
  GW.views = GW.views || {};

  const LOSS_KEYS = ["loss/g", "loss/d_real", "loss/d_fake"];
  const D_KEYS = ["d/real", "d/fake"];
  const GRAD_KEYS = ["grad/g", "grad/d"];
  const POLL_MS = 2000;

  /** Aligned step columns that grow: new steps appended, keys that appear late back-filled. */
  function makeColumns() {
    const cols = { steps: [], series: {} };
    cols.add = function (chunk) {
      const n = chunk.steps.length;
      if (!n) return 0;
      const before = cols.steps.length;
      for (const key of Object.keys(chunk.series)) if (!cols.series[key]) cols.series[key] = new Array(before).fill(null);
      for (const [key, col] of Object.entries(cols.series)) col.push(...(chunk.series[key] || new Array(n).fill(null)));
      cols.steps.push(...chunk.steps);
      return n;
    };
    cols.column = (key, len) => cols.series[key] || new Array(len).fill(null);
    return cols;
  }

  function metricGroups(epochs) {
    const groups = new Map();
    for (const rec of epochs) {
      for (const key of Object.keys(rec)) {
        if (!key.startsWith("metric/")) continue;
        const g = GW.metricInfo(key).group;
        if (!groups.has(g)) groups.set(g, new Set());
        groups.get(g).add(key);
      }
    }
    return [...groups.entries()].map(([group, keys]) => ({ group, keys: [...keys].sort() }));
  }

  GW.views.run = function (main, source, params, id) {
    let disposed = false;
    let stopPoll = () => {};
    const state = { detail: null, cols: makeColumns(), epochs: [], showD: false, showGrad: false, perEpoch: false, smoothing: 0 };
    const charts = { losses: null, metrics: new Map(), metricKeySig: "" };
    const players = new Map();

    GW.clear(main);
    main.appendChild(h("p", { class: "loading", text: "Loading run…" }));

    // -- layout (built once, filled in by the update functions) ------------------------
    const head = h("div", { class: "page-head run-head" });
    const stats = h("div", { class: "stats" });
    const lossBox = h("div", { class: "chart-box", attrs: { id: "chart-losses" } });
    const metricsBox = h("div", { class: "metric-grid", attrs: { id: "metrics" } });
    const verdictSlot = h("div", { class: "verdict-slot" });
    const imagesSlot = h("div", { class: "images-slot" });
    const timelineSlot = h("div", { attrs: { id: "timeline" } });
    const configSlot = h("div", { attrs: { id: "config" } });

    const toggle = (label, key, title) => {
      const box = h("input", { attrs: { type: "checkbox", "data-toggle": key } });
      box.addEventListener("change", () => { state[key] = box.checked; buildLossChart(); });
      return h("label", { class: "toggle", title }, box, h("span", { text: label }));
    };
    const smoothing = h("input", { attrs: { type: "range", min: 0, max: 0.99, step: 0.01, value: 0, "aria-label": "Smoothing" } });
    const smoothingValue = h("span", { class: "small mono", text: "0" });
    smoothing.addEventListener("input", () => {
      state.smoothing = Number(smoothing.value);
      smoothingValue.textContent = smoothing.value;
      if (charts.losses) charts.losses.setSmoothing(state.smoothing);
    });
    const resolution = h("div", { class: "segmented", attrs: { role: "group", "aria-label": "Resolution" } },
      ["Steps", "Epoch means"].map((text, i) => {
        const b = h("button", { class: `seg${i === 0 ? " on" : ""}`, attrs: { type: "button", "data-resolution": i ? "epoch" : "step" }, text });
        b.addEventListener("click", () => {
          state.perEpoch = i === 1;
          resolution.querySelectorAll(".seg").forEach((x) => x.classList.toggle("on", x === b));
          buildLossChart();
        });
        return b;
      }));
    const lossTools = h("div", { class: "chart-tools" },
      resolution,
      toggle("D(x) · D(G(z))", "showD", "The discriminator's mean output on real and generated batches (right axis, 0 to 1)"),
      toggle("Gradient norms", "showGrad", "L2 norms of all of G's and D's gradients (right axis)"),
      h("label", { class: "toggle slider", title: "Exponential moving average, as in TensorBoard" }, h("span", { text: "Smoothing" }), smoothing, smoothingValue));

    const lossCard = GW.card("Losses", { id: "losses", note: "drag to zoom · double-click to reset", class: "wide" }, lossTools, lossBox);
    const metricsCard = GW.card("Metrics", { id: "metrics-card" }, metricsBox);

    function layout() {
      GW.clear(main);
      GW.append(main, [
        head, stats,
        h("div", { class: "run-grid" },
          h("div", { class: "col-main" }, lossCard, metricsCard,
            GW.card("Diagnosis timeline", { class: "timeline-card" }, timelineSlot)),
          h("div", { class: "col-side" }, verdictSlot, imagesSlot,
            GW.card("Config", { class: "config-card" }, configSlot))),
      ]);
    }

    // -- pieces ---------------------------------------------------------------------------

    function renderHead(d) {
      GW.clear(head);
      GW.append(head, [
        h("div", { class: "title-row" },
          h("a", { class: "crumb", href: source.href("/"), text: "Runs" }),
          h("span", { class: "crumb-sep", text: "/" }),
          h("h1", { class: "run-title", text: d.name }),
          h("span", { class: "run-id", text: `#${d.id}` }),
          GW.statusBadge(d.status, d.stale),
          GW.verdictBadge(d.verdict)),
        h("div", { class: "run-summary", text: d.summary || "" }),
      ]);
      document.title = `${d.name} · ganwatch`;
      const last = d.last || {};
      const lastEpoch = state.epochs[state.epochs.length - 1] || {};
      GW.clear(stats);
      GW.append(stats, [
        GW.stat("Epoch", `${d.epochs_done}${d.epochs_total ? ` / ${d.epochs_total}` : ""}`, GW.progress(d.epochs_done, d.epochs_total)),
        GW.stat("Step", GW.int(d.step)),
        GW.stat("Throughput", last["speed/images_per_s"] ? `${GW.int(last["speed/images_per_s"])} img/s` : "–"),
        GW.stat("Epoch time", GW.duration(lastEpoch["time/epoch_s"])),
        GW.stat("Started", GW.when(d.created)),
        GW.stat(d.finished ? "Ended" : "Last update", d.finished ? GW.when(d.finished) : GW.ago(d.updated)),
      ]);
    }

    function lossSeries() {
      const list = LOSS_KEYS.map((k) => ({ key: k, ...GW.STEP_SERIES[k], width: 1.7 }));
      if (state.showD) D_KEYS.forEach((k) => list.push({ key: k, ...GW.STEP_SERIES[k], scale: "p" }));
      if (state.showGrad) GRAD_KEYS.forEach((k) => list.push({ key: k, ...GW.STEP_SERIES[k], scale: "g" }));
      return list;
    }

    function lossData(series) {
      if (state.perEpoch) {
        const x = state.epochs.map((r) => r.step);
        return [x, series.map((s) => state.epochs.map((r) => (r[s.key] === undefined ? null : r[s.key])))];
      }
      const x = state.cols.steps;
      return [x, series.map((s) => state.cols.column(s.key, x.length))];
    }

    function buildLossChart() {
      if (charts.losses) charts.losses.destroy();
      GW.clear(lossBox);
      const series = lossSeries();
      const axes = [];
      const scales = {};
      if (state.showD) { axes.push({ scale: "p", label: "D output" }); scales.p = { range: [0, 1] }; }
      if (state.showGrad) axes.push({ scale: "g", label: "grad norm" });
      charts.losses = GW.lineChart(lossBox, {
        series, axes, scales, height: 320, yLabel: "loss", sync: `run-${id}`,
        periods: state.detail ? state.detail.verdicts : [], smoothing: state.smoothing, points: state.perEpoch,
      });
      const [x, cols] = lossData(series);
      charts.losses.setData(x, cols);
      charts.losses.series = series;
    }

    function appendLosses(chunk) {
      if (!charts.losses || state.perEpoch) { buildLossChart(); return; }
      const n = chunk.steps.length;
      charts.losses.append(chunk.steps, charts.losses.series.map((s) => chunk.series[s.key] || new Array(n).fill(null)));
    }

    function renderMetrics() {
      const groups = metricGroups(state.epochs);
      const sig = JSON.stringify(groups);
      const x = state.epochs.map((r) => r.step);
      if (!groups.length) {
        charts.metrics.forEach((c) => c.destroy());
        charts.metrics.clear();
        charts.metricKeySig = sig;
        GW.clear(metricsBox);
        metricsBox.appendChild(h("p", { class: "muted empty-metrics", text: "No metrics recorded yet: NDB, classes covered, FID and precision · recall · density · coverage appear here once evaluations run during training." }));
        return;
      }
      if (sig !== charts.metricKeySig) {
        charts.metrics.forEach((c) => c.destroy());
        charts.metrics.clear();
        GW.clear(metricsBox);
        for (const { group, keys } of groups) {
          const box = h("div", { class: "chart-box small", data: { group } });
          metricsBox.appendChild(h("figure", { class: "metric-chart" }, h("figcaption", { text: GW.groupTitle(group, keys) }), box));
          const series = keys.map((k, i) => ({ key: k, label: GW.metricInfo(k).label, color: GW.metricInfo(k).color || GW.PALETTE[i % GW.PALETTE.length], width: 1.8 }));
          const chart = GW.lineChart(box, { series, height: 190, spanGaps: true, points: true, sync: `run-${id}`, periods: state.detail ? state.detail.verdicts : [] });
          chart.keys = keys;
          charts.metrics.set(group, chart);
        }
        charts.metricKeySig = sig;
      }
      charts.metrics.forEach((chart) => chart.setData(x, chart.keys.map((k) => state.epochs.map((r) => (r[k] === undefined ? null : r[k])))));
    }

    function renderImages(images) {
      const kinds = Object.keys(images || {}).sort((a, b) => (a === "grid" ? -1 : b === "grid" ? 1 : a.localeCompare(b)));
      if (!kinds.includes("grid")) kinds.unshift("grid");
      for (const kind of kinds) {
        const frames = (images || {})[kind] || [];
        if (!players.has(kind)) {
          const meta = GW.IMAGE_KINDS[kind] || { title: kind, note: "" };
          const player = GW.imagePlayer({ kind, title: meta.title, frames, strip: kind === "grid" ? 10 : 0 });
          players.set(kind, player);
          imagesSlot.appendChild(GW.card(meta.title, { class: `image-card kind-${kind}`, note: meta.note, id: `images-${kind}` }, player.el));
        } else {
          players.get(kind).setFrames(frames);
        }
      }
    }

    function renderDetail(d) {
      state.detail = d;
      renderHead(d);
      GW.clear(verdictSlot);
      verdictSlot.appendChild(GW.verdictCard(d.verdict));
      renderImages(d.images);
      GW.clear(timelineSlot);
      timelineSlot.appendChild(GW.timeline(d.events));
      GW.clear(configSlot);
      configSlot.appendChild(GW.configTable(d.config));
      if (charts.losses) charts.losses.setPeriods(d.verdicts);
      charts.metrics.forEach((c) => c.setPeriods(d.verdicts));
    }

    async function poll() {
      const d = await source.run(id);
      if (disposed) return;
      if (d.updated === state.detail.updated) {
        renderHead(d); // "last update ... ago" and a run gone quiet still change
        return;
      }
      // A resumed run records again the steps after its checkpoint: then fetch all anew.
      const resumes = (d.events || []).filter((e) => e.kind === "resumed").length;
      const restart = resumes !== state.resumes;
      const lastStep = !restart && state.cols.steps.length ? state.cols.steps[state.cols.steps.length - 1] : 0;
      const [chunk, epochs] = await Promise.all([source.steps(id, lastStep), source.epochs(id)]);
      if (disposed) return;
      if (restart) {
        state.resumes = resumes;
        state.cols = makeColumns();
        state.cols.add(chunk);
        state.epochs = epochs;
        renderDetail(d);
        buildLossChart();
        renderMetrics();
        return;
      }
      state.cols.add(chunk);
      const epochsChanged = epochs.length !== state.epochs.length || JSON.stringify(epochs[epochs.length - 1]) !== JSON.stringify(state.epochs[state.epochs.length - 1]);
      state.epochs = epochs;
      renderDetail(d);
      if (state.perEpoch) { if (epochsChanged) buildLossChart(); } else appendLosses(chunk);
      if (epochsChanged) renderMetrics();
    }

    (async () => {
      try {
        const [d, steps, epochs] = await Promise.all([source.run(id), source.steps(id, 0), source.epochs(id)]);
        if (disposed) return;
        state.cols.add(steps);
        state.epochs = epochs;
        state.resumes = (d.events || []).filter((e) => e.kind === "resumed").length;
        layout();
        renderDetail(d);
        buildLossChart();
        renderMetrics();
        main.dataset.ready = "true";
        if (source.live) stopPoll = GW.every(POLL_MS, poll);
      } catch (err) {
        if (disposed) return;
        GW.clear(main);
        GW.append(main, err instanceof GW.NotFound
          ? [h("h1", { text: "Not found" }), h("p", { text: `There is no run ${id} in this store.` }), h("a", { href: source.href("/"), text: "All runs" })]
          : [h("h1", { text: "Could not load this run" }), h("p", { class: "muted", text: String(err.message || err) })]);
      }
    })();

    return () => {
      disposed = true;
      stopPoll();
      players.forEach((p) => p.stop());
      if (charts.losses) charts.losses.destroy();
      charts.metrics.forEach((c) => c.destroy());
    };
  };
})(window.GW = window.GW || {});
