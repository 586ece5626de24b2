/* ganwatch dashboard: DOM building, number formatting and the shared vocabulary (verdicts,
 * statuses, metric names, colours). Every piece of run data reaches the page through h()
 * below, which only ever sets textContent and attributes, never HTML: a run named
 * "<script>" is shown as those characters. */
(function (GW) {
  "use strict";

  /** Build an element. props: {class, text, title, href, attrs: {}, data: {}, on: {}}. */
  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    const p = props || {};
    if (p.class) el.className = p.class;
    if (p.text !== undefined && p.text !== null) el.textContent = String(p.text);
    if (p.title) el.title = String(p.title);
    if (p.href) el.setAttribute("href", safeHref(p.href));
    if (p.attrs) for (const [k, v] of Object.entries(p.attrs)) if (v !== null && v !== undefined && v !== false) el.setAttribute(k, v === true ? "" : String(v));
    if (p.data) for (const [k, v] of Object.entries(p.data)) el.dataset[k] = String(v);
    if (p.on) for (const [k, fn] of Object.entries(p.on)) el.addEventListener(k, fn);
    append(el, children);
    return el;
  }

  function append(el, children) {
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      el.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }

  /** Links are built from numeric ids, but refuse anything that is not a plain path/hash. */
  function safeHref(href) {
    const s = String(href);
    return /^(#|\/(?!\/)|\?)/.test(s) ? s : "#";
  }

  function clear(el) {
    while (el.firstChild) el.removeChild(el.firstChild);
    return el;
  }

  // -- numbers and times --------------------------------------------------------------

  function num(v, digits) {
    if (v === null || v === undefined || Number.isNaN(v)) return "–";
    if (!Number.isFinite(v)) return v > 0 ? "∞" : "−∞";
    const d = digits || 3;
    const a = Math.abs(v);
    if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(Math.max(0, d - 1));
    if (Number.isInteger(v) && a < 1e5) return String(v);
    return Number(v.toPrecision(d)).toString();
  }

  function int(v) {
    return v === null || v === undefined ? "–" : Math.round(v).toLocaleString("en-US");
  }

  function ago(ts, now) {
    if (!ts) return "";
    const s = Math.max(0, (now || Date.now() / 1000) - ts);
    if (s < 45) return "just now";
    if (s < 90) return "a minute ago";
    if (s < 3600) return `${Math.round(s / 60)} min ago`;
    if (s < 86400) return `${Math.round(s / 3600)} h ago`;
    return `${Math.round(s / 86400)} d ago`;
  }

  function when(ts) {
    if (!ts) return "";
    const d = new Date(ts * 1000);
    const pad = (n) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }

  function duration(s) {
    if (s === null || s === undefined || !Number.isFinite(s)) return "–";
    if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
    if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
    return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
  }

  // -- vocabulary ---------------------------------------------------------------------

  // The names of verdicts, statuses and recorded keys, with their labels, colours and which
  // way is better, come from ganwatch's catalog (the /api/catalog route, or a report's data):
  // useCatalog() fills these tables before any view is drawn.
  const VERDICTS = {};
  const STATUSES = {};
  const STEP_SERIES = {};
  const METRICS = {};
  const METRIC_GROUPS = {};
  const NO_VERDICT = { label: "No verdict", color: "#adb5bd", note: "no diagnosis recorded" };

  function useCatalog(catalog) {
    for (const [kind, v] of Object.entries(catalog.verdicts)) VERDICTS[kind] = { label: v.label, color: v.color, note: v.note };
    for (const name of Object.keys(catalog.statuses)) STATUSES[name] = { label: name, cls: `st-${name}` };
    for (const [key, k] of Object.entries(catalog.keys)) {
      const entry = { label: k.label, color: k.color || undefined, dash: k.dash || undefined };
      if (key.startsWith("metric/")) METRICS[key] = { ...entry, better: k.better, group: k.group || key };
      else STEP_SERIES[key] = entry;
    }
    Object.assign(METRIC_GROUPS, catalog.metric_groups);
  }

  function verdictInfo(kind) {
    if (!kind) return NO_VERDICT;
    return VERDICTS[kind] || { label: String(kind).replace(/_/g, " "), color: "#5c7cfa", note: "" };
  }

  function statusBadge(status, stale) {
    const info = STATUSES[status] || { label: String(status), cls: "st-other" };
    const label = stale ? `${info.label}?` : info.label;
    const title = stale ? "marked running, but nothing was recorded for over 10 minutes" : "";
    return h("span", { class: `badge status ${info.cls}${stale ? " stale" : ""}`, title, data: { status } },
      status === "running" && !stale ? h("span", { class: "pulse", attrs: { "aria-hidden": "true" } }) : null,
      label);
  }

  function verdictBadge(verdict, big) {
    const kind = verdict ? verdict.kind : null;
    const info = verdictInfo(kind);
    const el = h("span", {
      class: `badge verdict${big ? " big" : ""}${kind ? "" : " none"}`,
      title: (verdict && verdict.note) || info.note,
      data: { verdict: kind || "none" },
    }, h("span", { class: "dot", attrs: { "aria-hidden": "true" } }), info.label);
    el.style.setProperty("--vc", info.color);
    return el;
  }

  function metricInfo(key) {
    if (METRICS[key]) return METRICS[key];
    const name = key.replace(/^metric\//, "").replace(/_/g, " ");
    return { label: name.charAt(0).toUpperCase() + name.slice(1), better: null, group: key };
  }

  function groupTitle(group, keys) {
    return METRIC_GROUPS[group] || keys.map((k) => metricInfo(k).label).join(" · ");
  }

  const IMAGE_KINDS = {
    grid: { title: "Fixed-noise samples", note: "the same noise every epoch" },
    ndb: { title: "NDB bins", note: "share of real and generated samples per bin; starred bins differ" },
  };

  // Run colours for comparisons: distinct in hue and readable on white and dark.
  const PALETTE = ["#3b5bdb", "#e8590c", "#2b8a3e", "#c2255c", "#7048e8", "#0c8599"];

  function cssVar(name, fallback) {
    const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return v || fallback;
  }

  function withAlpha(hex, alpha) {
    const m = /^#([0-9a-f]{6})$/i.exec(hex);
    if (!m) return hex;
    const n = parseInt(m[1], 16);
    return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
  }

  /** A timer that runs fn every ms while the tab is visible; returns a stop function. */
  function every(ms, fn) {
    let stopped = false;
    let timer = null;
    let busy = false;
    const tick = async () => {
      if (stopped) return;
      if (!document.hidden && !busy) {
        busy = true;
        try { await fn(); } catch (err) { console.warn("ganwatch: refresh failed", err); }
        busy = false;
      }
      if (!stopped) timer = setTimeout(tick, ms);
    };
    timer = setTimeout(tick, ms);
    return () => { stopped = true; clearTimeout(timer); };
  }

  function card(title, opts, ...children) {
    const o = opts || {};
    return h("section", { class: `card${o.class ? " " + o.class : ""}`, attrs: { id: o.id || null } },
      title ? h("header", { class: "card-head" }, h("h2", { text: title }),
        o.note ? h("span", { class: "card-note", text: o.note }) : null,
        o.tools || null) : null,
      children);
  }

  Object.assign(GW, {
    h, append, clear, num, int, ago, when, duration, card,
    VERDICTS, NO_VERDICT, verdictInfo, STATUSES, statusBadge, verdictBadge, useCatalog,
    STEP_SERIES, METRICS, metricInfo, groupTitle, IMAGE_KINDS, PALETTE, cssVar, withAlpha, every,
  });
})(window.GW = window.GW || {});
