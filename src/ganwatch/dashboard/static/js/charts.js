/* Charts: a thin layer over uPlot (vendor/) that adds what every ganwatch chart needs:
 * verdict periods shaded behind the lines, TensorBoard-style smoothing, live appends that
 * keep the user's zoom, resizing with the page, and data-* counters that tests and
 * screenshots can wait on. Plus a tiny canvas sparkline for the runs list. */
(function (GW) {
  "use strict";

  // Steps are whole numbers: ticks at 1, 2, 5 times powers of ten, never at 2.5.
  const STEP_INCRS = [];
  for (let p = 1; p <= 1e8; p *= 10) STEP_INCRS.push(p, 2 * p, 5 * p);

  /** Exponential moving average with bias correction; gaps (null) stay gaps. */
  function smooth(values, weight) {
    if (!weight) return values;
    const out = new Array(values.length);
    let last = 0;
    let n = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v === null || v === undefined || !Number.isFinite(v)) { out[i] = v === undefined ? null : v; continue; }
      last = last * weight + (1 - weight) * v;
      n += 1;
      out[i] = last / (1 - Math.pow(weight, n));
    }
    return out;
  }

  /** Draw each verdict period as a tinted band with its name at the top. */
  function periodsPlugin(getPeriods) {
    return {
      hooks: {
        drawClear: [
          (u) => {
            const periods = getPeriods() || [];
            if (!periods.length || u.data[0].length === 0) return;
            const ctx = u.ctx;
            const { left, top, width, height } = u.bbox;
            const xMax = u.scales.x.max;
            ctx.save();
            ctx.font = `${Math.round(11 * devicePixelRatio)}px system-ui, sans-serif`;
            ctx.textBaseline = "top";
            for (const p of periods) {
              const info = GW.verdictInfo(p.kind);
              const x0 = Math.max(left, u.valToPos(p.start, "x", true));
              const endVal = p.end === null || p.end === undefined ? xMax : p.end;
              const x1 = Math.min(left + width, u.valToPos(endVal, "x", true));
              if (!(x1 > x0)) continue;
              ctx.fillStyle = GW.withAlpha(info.color, p.kind === "healthy" ? 0.07 : 0.13);
              ctx.fillRect(x0, top, x1 - x0, height);
              ctx.fillStyle = GW.withAlpha(info.color, 0.9);
              ctx.fillRect(x0, top, x1 - x0, 3 * devicePixelRatio);
              const label = info.label;
              if (ctx.measureText(label).width + 8 * devicePixelRatio < x1 - x0) {
                ctx.fillText(label, x0 + 4 * devicePixelRatio, top + 6 * devicePixelRatio);
              }
            }
            ctx.restore();
          },
        ],
      },
    };
  }

  /**
   * A line chart in `container`. opts.series: [{key, label, color, dash, scale, width}];
   * opts.axes: extra right-hand axes as {scale, label}; opts.periods: verdict periods.
   */
  function lineChart(container, opts) {
    const series = opts.series;
    let raw = [[], ...series.map(() => [])];
    let periods = opts.periods || [];
    let weight = opts.smoothing || 0;
    const height = opts.height || 260;
    const muted = GW.cssVar("--muted", "#667085");
    const grid = GW.cssVar("--grid", "rgba(0,0,0,0.07)");
    const axisBase = { stroke: muted, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, font: "11px system-ui, sans-serif", labelFont: "12px system-ui, sans-serif" };
    const fmt = (u, v) => (v === null || v === undefined ? "–" : GW.num(v, 4));
    const scales = { x: { time: false } };
    for (const [name, scale] of Object.entries(opts.scales || {})) scales[name] = scale;
    const axes = [
      { ...axisBase, label: opts.xLabel || "step", size: 40, labelSize: 18, incrs: STEP_INCRS, values: (u, vals) => vals.map((v) => GW.int(v)) },
      { ...axisBase, scale: "y", label: opts.yLabel || "", labelSize: opts.yLabel ? 18 : 0, size: 52, values: (u, vals) => vals.map((v) => GW.num(v, 3)) },
      ...(opts.axes || []).map((a) => ({ ...axisBase, scale: a.scale, label: a.label, labelSize: 18, side: 1, size: 52, grid: { show: false }, values: (u, vals) => vals.map((v) => GW.num(v, 3)) })),
    ];
    const config = {
      width: Math.max(200, container.clientWidth || 600),
      height,
      class: "gw-uplot",
      scales,
      axes,
      cursor: opts.sync ? { sync: { key: opts.sync }, drag: { x: true, y: false } } : { drag: { x: true, y: false } },
      legend: { live: true },
      plugins: [periodsPlugin(() => periods)],
      series: [
        { label: opts.xLabel || "step", value: (u, v) => (v === null || v === undefined ? "–" : GW.num(v, 6)) },
        ...series.map((s) => {
          const one = { label: s.label, stroke: s.color, width: s.width || 1.6, scale: s.scale || "y", spanGaps: !!opts.spanGaps, value: fmt };
          if (s.dash) one.dash = s.dash;
          if (opts.points) one.points = { show: true, size: 5, fill: s.color };
          return one;
        }),
      ],
    };
    container.classList.add("chart");
    config.hooks = {
      setSelect: [(u) => { if (u.select.width > 0) zoomed = true; }],
      setCursor: [(u) => { if (u.cursor.idx === null || u.cursor.idx === undefined) showLatest(); }],
    };
    let zoomed = false;
    const plot = new uPlot(config, display(), container);
    plot.over.addEventListener("dblclick", () => { zoomed = false; });

    /** Away from the cursor, the legend shows each series' latest value instead of dashes. */
    function showLatest() {
      if (!plot || !plot.data || !plot.data[0].length) return;
      const n = plot.data[0].length;
      const idxs = plot.data.map((col, i) => {
        if (i === 0) return n - 1;
        for (let j = col.length - 1; j >= 0; j--) if (col[j] !== null && col[j] !== undefined) return j;
        return null;
      });
      plot.setLegend({ idxs }, false);
    }

    function display() {
      return [raw[0], ...raw.slice(1).map((col) => smooth(col, weight))];
    }

    function mark() {
      container.dataset.points = String(raw[0].length);
      container.dataset.series = String(raw.slice(1).filter((c) => c.some((v) => v !== null && v !== undefined)).length);
      container.classList.toggle("empty", raw[0].length === 0);
    }

    function redraw() {
      if (zoomed) {
        plot.setData(display(), false);
        plot.redraw(false, true);
      } else {
        plot.setData(display(), true);
      }
      if (plot.cursor.idx === null || plot.cursor.idx === undefined) showLatest();
      mark();
    }

    const resize = new ResizeObserver(() => {
      const w = Math.max(200, container.clientWidth);
      if (w !== plot.width) plot.setSize({ width: w, height });
    });
    resize.observe(container);
    mark();

    return {
      plot,
      /** Replace all data: x values and one column per series, aligned with x. */
      setData(x, cols) { raw = [x.slice(), ...cols.map((c) => c.slice())]; redraw(); },
      /** Append new x values with their columns (from a live poll). */
      append(x, cols) {
        if (!x.length) return;
        raw[0].push(...x);
        cols.forEach((c, i) => raw[i + 1].push(...c));
        redraw();
      },
      setPeriods(p) { periods = p || []; plot.redraw(false, true); },
      setSmoothing(w) { weight = w; redraw(); },
      get points() { return raw[0].length; },
      destroy() { resize.disconnect(); plot.destroy(); },
    };
  }

  /** A small line of `values` (nulls skipped) on a canvas; for the runs list. */
  function sparkline(values, opts) {
    const o = opts || {};
    const w = o.width || 120;
    const hgt = o.height || 28;
    const ratio = window.devicePixelRatio || 1;
    const canvas = GW.h("canvas", { class: "spark", attrs: { width: w * ratio, height: hgt * ratio, "aria-hidden": "true" } });
    canvas.style.width = `${w}px`;
    canvas.style.height = `${hgt}px`;
    const pts = values.map((v, i) => [i, v]).filter((p) => p[1] !== null && Number.isFinite(p[1]));
    if (pts.length < 2) return canvas;
    const ys = pts.map((p) => p[1]);
    const lo = Math.min(...ys);
    const hi = Math.max(...ys);
    const span = hi - lo || 1;
    const ctx = canvas.getContext("2d");
    ctx.scale(ratio, ratio);
    ctx.strokeStyle = o.color || "#3b5bdb";
    ctx.lineWidth = 1.4;
    ctx.lineJoin = "round";
    ctx.beginPath();
    const last = values.length - 1 || 1;
    pts.forEach(([i, v], k) => {
      const x = 2 + (i / last) * (w - 4);
      const y = hgt - 3 - ((v - lo) / span) * (hgt - 6);
      if (k === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
    });
    ctx.stroke();
    return canvas;
  }

  Object.assign(GW, { lineChart, sparkline, smooth });
})(window.GW = window.GW || {});
