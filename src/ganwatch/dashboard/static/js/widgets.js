/* Widgets shared by the views: the image player (epoch slider and play button), the verdict
 * card with its evidence and remedies, the diagnosis timeline, the config table and the
 * little stat tiles. Each returns an element (plus methods where it changes live). */
(function (GW) {
  "use strict";
  const { h } = GW;

  /**
   * A picture per epoch with a slider, step buttons and play. frames: [{epoch, step, url}].
   * While the slider sits on the newest frame, new frames from a live run are followed.
   */
  function imagePlayer(opts) {
    let frames = [];
    let index = -1;
    let timer = null;
    const cache = new Map();
    const img = h("img", { class: "player-img", attrs: { alt: opts.title || "image", decoding: "async", draggable: "false" } });
    // An 8x8 grid of 28-pixel digits is tiny: scale it up crisply. Scatters are drawn large.
    img.addEventListener("load", () => img.classList.toggle("pixelated", img.naturalWidth < 250));
    const slider = h("input", { class: "player-slider", attrs: { type: "range", min: 0, max: 0, step: 1, value: 0, "aria-label": `${opts.title || "image"}: epoch` } });
    const label = h("span", { class: "player-label" });
    const play = h("button", { class: "btn icon", attrs: { type: "button", "aria-label": "Play", title: "Play through the epochs" }, text: "▶" });
    const prev = h("button", { class: "btn icon", attrs: { type: "button", "aria-label": "Previous epoch", title: "Previous epoch" }, text: "‹" });
    const next = h("button", { class: "btn icon", attrs: { type: "button", "aria-label": "Next epoch", title: "Next epoch" }, text: "›" });
    const empty = h("div", { class: "player-empty", text: opts.emptyText || "No pictures yet: the first comes at the end of epoch 1." });
    const stage = h("div", { class: "player-stage" }, img, empty);
    // A filmstrip of evenly spaced epochs: how the samples moved, at a glance.
    const strip = opts.strip ? h("div", { class: "strip", attrs: { role: "group", "aria-label": "Epochs at a glance" } }) : null;
    let stripPicks = [];
    const el = h("div", { class: "player", data: { kind: opts.kind || "grid" } },
      stage,
      h("div", { class: "player-controls" }, play, prev, slider, next),
      h("div", { class: "player-meta" }, label),
      strip);

    function evenly(n, limit) {
      if (n <= limit) return [...Array(n).keys()];
      const picks = new Set();
      for (let i = 0; i < limit; i++) picks.add(Math.round((i * (n - 1)) / (limit - 1)));
      return [...picks];
    }

    function renderStrip() {
      if (!strip) return;
      const picks = evenly(frames.length, opts.strip);
      const key = picks.map((i) => frames[i].url).join("|");
      if (key === strip.dataset.key) return;
      strip.dataset.key = key;
      stripPicks = picks;
      GW.clear(strip);
      strip.hidden = picks.length < 2;
      for (const i of picks) {
        const f = frames[i];
        strip.appendChild(h("button", {
          class: "thumb", attrs: { type: "button", title: `Epoch ${f.epoch}`, "aria-label": `Show epoch ${f.epoch}` }, data: { index: i },
          on: { click: () => { stop(); show(i); } },
        }, h("img", { attrs: { src: f.url, alt: "", loading: "lazy", draggable: "false" } }), h("span", { text: String(f.epoch) })));
      }
    }

    function markStrip() {
      if (!strip) return;
      // The thumbnail of the nearest epoch at or before the one shown is highlighted.
      let best = -1;
      for (const i of stripPicks) if (i <= index) best = i;
      strip.querySelectorAll(".thumb").forEach((b) => b.classList.toggle("on", Number(b.dataset.index) === best));
    }

    function preload(url) {
      if (!cache.has(url) && cache.size < 400) {
        const im = new Image();
        im.src = url;
        cache.set(url, im);
      }
    }

    function show(i) {
      if (!frames.length) {
        el.classList.add("is-empty");
        label.textContent = "";
        return;
      }
      el.classList.remove("is-empty");
      index = Math.max(0, Math.min(frames.length - 1, i));
      const f = frames[index];
      if (img.getAttribute("src") !== f.url) img.setAttribute("src", f.url);
      img.alt = `${opts.title || "image"} at epoch ${f.epoch}`;
      slider.value = String(index);
      el.dataset.epoch = String(f.epoch);
      label.textContent = "";
      GW.append(label, [h("strong", { text: `Epoch ${f.epoch}` }), ` of ${frames[frames.length - 1].epoch} · step ${GW.int(f.step)}`]);
      prev.disabled = index === 0;
      next.disabled = index === frames.length - 1;
      markStrip();
      if (frames[index + 1]) preload(frames[index + 1].url);
    }

    function stop() {
      if (timer) clearInterval(timer);
      timer = null;
      play.textContent = "▶";
      play.setAttribute("aria-label", "Play");
      el.classList.remove("playing");
    }

    function start() {
      if (frames.length < 2) return;
      if (index >= frames.length - 1) show(0);
      frames.forEach((f) => preload(f.url));
      play.textContent = "❚❚";
      play.setAttribute("aria-label", "Pause");
      el.classList.add("playing");
      timer = setInterval(() => {
        if (index >= frames.length - 1) { stop(); return; }
        show(index + 1);
      }, opts.interval || 450);
    }

    slider.addEventListener("input", () => { stop(); show(Number(slider.value)); });
    prev.addEventListener("click", () => { stop(); show(index - 1); });
    next.addEventListener("click", () => { stop(); show(index + 1); });
    play.addEventListener("click", () => (timer ? stop() : start()));

    const api = {
      el,
      setFrames(list) {
        const following = index < 0 || index >= frames.length - 1;
        frames = (list || []).slice();
        slider.max = String(Math.max(0, frames.length - 1));
        slider.disabled = frames.length < 2;
        play.disabled = frames.length < 2;
        renderStrip();
        show(following ? frames.length - 1 : index);
      },
      /** Show the newest frame at or before `epoch` (the compare page's shared slider). */
      showEpoch(epoch) {
        let best = 0;
        frames.forEach((f, i) => { if (f.epoch <= epoch) best = i; });
        stop();
        show(best);
      },
      get frames() { return frames; },
      stop,
    };
    api.setFrames(opts.frames);
    return api;
  }

  function confidenceMeter(value) {
    if (value === null || value === undefined) return null;
    const pct = Math.round(Math.max(0, Math.min(1, value)) * 100);
    const bar = h("span", { class: "meter-fill" });
    bar.style.width = `${pct}%`;
    return h("span", { class: "meter", title: `confidence ${pct}%` }, h("span", { class: "meter-track" }, bar), h("span", { class: "meter-text", text: `${pct}% confident` }));
  }

  /** Each measurement that led to a verdict: value against threshold, and what it means.
   * A list rather than a table, so it reads in the narrow side column too. */
  function evidenceTable(evidence) {
    if (!evidence || !evidence.length) return null;
    return h("ul", { class: "evidence" }, evidence.map((e) => {
      const op = e.op === "<" || e.op === ">" ? e.op : "";
      const tripped = op && Number.isFinite(e.value) && Number.isFinite(e.threshold) && (op === ">" ? e.value > e.threshold : e.value < e.threshold);
      const key = String(e.metric || "");
      const label = key.startsWith("metric/") ? GW.metricInfo(key).label : (GW.STEP_SERIES[key] || {}).label || key || "–";
      return h("li", { class: tripped ? "tripped" : "" },
        h("div", { class: "ev-line" },
          h("span", { class: "metric-name", text: label, title: key }),
          h("span", { class: "ev-value", text: GW.num(e.value, 4) }),
          h("span", { class: "ev-threshold", text: op ? `${op} ${GW.num(e.threshold, 4)}` : `threshold ${GW.num(e.threshold, 4)}` })),
        e.note ? h("div", { class: "ev-note", text: e.note }) : null);
    }));
  }

  function remediesList(remedies) {
    if (!remedies || !remedies.length) return null;
    return h("ol", { class: "remedies" }, remedies.map((r) => h("li", null,
      h("span", { class: "remedy-text", text: r.text || "" }),
      r.flag ? h("span", { class: "remedy-flag" },
        h("code", { text: r.flag }),
        h("button", {
          class: "btn tiny", text: "copy", attrs: { type: "button", title: "Copy the flag" },
          on: { click: (ev) => copyText(r.flag, ev.currentTarget) },
        })) : null)));
  }

  async function copyText(text, button) {
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = "copied";
    } catch (err) {
      button.textContent = "select it";
    }
    setTimeout(() => { button.textContent = "copy"; }, 1500);
  }

  /** What a held verdict's detectors found instead, in words: the verdict waits for the new
   * kind to be confirmed (``verdict_hold`` evaluations in a row), and says so rather than
   * look settled. */
  function pendingNote(kind) {
    return `The latest evaluation says “${GW.verdictInfo(kind).label}”, not yet confirmed; this verdict stands until it is.`;
  }

  /** The current diagnosis in large type, or a quiet placeholder when there is none. */
  function verdictCard(verdict) {
    if (!verdict) {
      return GW.card("Diagnosis", { class: "verdict-card none", id: "verdict" },
        h("div", { class: "verdict-head" }, GW.verdictBadge(null, true)),
        h("p", { class: "muted", text: "No verdict recorded for this run. Verdicts appear here once the diagnosis runs during training." }));
    }
    const info = GW.verdictInfo(verdict.kind);
    // The server's sentence follows the evidence (which detector fired); the kind's own is the fallback.
    const note = verdict.note || info.note;
    const c = GW.card("Diagnosis", { class: "verdict-card", id: "verdict" },
      h("div", { class: "verdict-head" }, GW.verdictBadge(verdict, true), confidenceMeter(verdict.confidence)),
      h("p", { class: "verdict-note" }, note ? `${note.charAt(0).toUpperCase()}${note.slice(1)}, ` : "", `since step ${GW.int(verdict.start)}`, verdict.count > 1 ? ` (confirmed ${verdict.count} times)` : "", "."),
      verdict.pending ? h("p", { class: "verdict-pending", text: pendingNote(verdict.pending) }) : null,
      verdict.evidence && verdict.evidence.length ? h("h3", { text: "Evidence" }) : null,
      evidenceTable(verdict.evidence),
      verdict.remedies && verdict.remedies.length ? h("h3", { text: "What to try" }) : null,
      remediesList(verdict.remedies));
    c.style.setProperty("--vc", info.color);
    return c;
  }

  const EVENT_LABELS = {
    started: "Started", resumed: "Resumed", finished: "Finished", interrupted: "Interrupted",
    failed: "Failed", diverged: "Diverged", stopped: "Stopped", reference: "Reference prepared",
  };
  const EVENT_COLORS = {
    started: "#3b5bdb", resumed: "#3b5bdb", finished: "#2b8a3e", interrupted: "#f59f00",
    failed: "#c92a2a", diverged: "#c92a2a", stopped: "#868e96",
  };

  function payloadList(payload) {
    const entries = Object.entries(payload || {}).filter(([, v]) => v !== null && v !== undefined && v !== "");
    if (!entries.length) return null;
    return h("dl", { class: "kv" }, entries.map(([k, v]) => [
      h("dt", { text: k.replace(/_/g, " ") }),
      typeof v === "object"
        ? h("dd", { text: nestedSummary(v), attrs: { title: JSON.stringify(v) } })
        : h("dd", { text: typeof v === "number" ? GW.num(v, 6) : String(v) }),
    ]));
  }

  /** A nested payload value (the reference's real-data bands, say) in one short line; the
   * whole of it is in the tooltip, since a wall of JSON in the timeline reads as nothing. */
  function nestedSummary(value) {
    if (Array.isArray(value)) return `${value.length} items`;
    const keys = Object.keys(value);
    const names = keys.slice(0, 4).map((k) => k.replace(/^metric\//, "")).join(", ");
    return `${keys.length} entries: ${names}${keys.length > 4 ? ", …" : ""}`;
  }

  /** Events oldest first; runs of the same verdict fold into one entry that counts them. */
  function timeline(events) {
    const items = [];
    for (const e of events || []) {
      const prev = items[items.length - 1];
      if (e.kind === "verdict" && prev && prev.kind === "verdict" && prev.payload.kind === (e.payload || {}).kind) {
        prev.repeat += 1;
        prev.last = e;
        continue;
      }
      items.push({ ...e, payload: e.payload || {}, repeat: 1, last: e });
    }
    if (!items.length) return h("p", { class: "muted", text: "No events yet." });
    const latestVerdict = [...items].reverse().find((it) => it.kind === "verdict");
    return h("ol", { class: "timeline" }, items.map((it) => {
      const isVerdict = it.kind === "verdict";
      const p = isVerdict ? it.last.payload || {} : it.payload;
      const info = isVerdict ? GW.verdictInfo(p.kind) : null;
      const color = isVerdict ? info.color : EVENT_COLORS[it.kind] || "#868e96";
      const title = isVerdict ? `Verdict: ${info.label}` : EVENT_LABELS[it.kind] || it.kind;
      const steps = it.repeat > 1 ? `steps ${GW.int(it.step)}–${GW.int(it.last.step)} (×${it.repeat})` : it.step !== null && it.step !== undefined ? `step ${GW.int(it.step)}` : "";
      const li = h("li", { class: `tl-item${isVerdict ? " tl-verdict" : ""}`, data: { kind: it.kind } },
        h("span", { class: "tl-dot", attrs: { "aria-hidden": "true" } }),
        h("div", { class: "tl-body" },
          h("div", { class: "tl-title" }, h("strong", { text: title }), h("span", { class: "tl-meta", text: [steps, GW.when(it.time)].filter(Boolean).join(" · ") })),
          isVerdict
            ? h("details", { attrs: { open: it === latestVerdict } },
                h("summary", null, p.since_step !== undefined ? `since step ${GW.int(p.since_step)}` : "details", p.confidence !== undefined && p.confidence !== null ? ` · ${Math.round(p.confidence * 100)}% confident` : "", p.raw_kind && p.raw_kind !== p.kind ? ` · latest evaluation: “${GW.verdictInfo(p.raw_kind).label}”, not yet confirmed` : ""),
                evidenceTable(p.evidence), remediesList(p.remedies))
            : payloadList(it.payload)));
      li.style.setProperty("--tc", color);
      li.style.setProperty("--vc", color);
      return li;
    }));
  }

  function configTable(config) {
    const entries = Object.entries(config || {});
    if (!entries.length) return h("p", { class: "muted", text: "No config recorded." });
    return h("table", { class: "config" }, h("tbody", null, entries.map(([k, v]) => h("tr", null,
      h("th", { text: k }),
      h("td", { class: v === null ? "muted" : "", text: v === null ? "–" : typeof v === "object" ? JSON.stringify(v) : String(v) })))));
  }

  function stat(label, value, extra) {
    return h("div", { class: "stat" }, h("span", { class: "stat-label", text: label }), h("span", { class: "stat-value", text: value }), extra || null);
  }

  function progress(done, total) {
    if (!total) return null;
    const bar = h("span", { class: "progress-fill" });
    bar.style.width = `${Math.min(100, Math.round((100 * done) / total))}%`;
    return h("span", { class: "progress", title: `${done} of ${total} epochs` }, bar);
  }

  Object.assign(GW, { imagePlayer, verdictCard, evidenceTable, remediesList, timeline, configTable, stat, progress });
})(window.GW = window.GW || {});
