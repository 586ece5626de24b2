/* The runs list ("/"): every run with its status, verdict, progress, loss trend and latest
 * numbers; filters by verdict, status and name; pick 2 to 6 runs to compare. Refreshes
 * itself while served live. */
(function (GW) {
  "use strict";
  const { h } = GW;
  GW.views = GW.views || {};

  const MAX_COMPARE = 6;

  function lastLosses(last) {
    const keys = ["loss/g", "loss/d_real", "loss/d_fake"];
    if (!keys.some((k) => last && last[k] !== undefined)) return h("span", { class: "muted", text: "–" });
    return h("span", { class: "losses" }, keys.map((k) => h("span", { class: "loss", title: GW.STEP_SERIES[k].label },
      h("span", { class: "swatch", data: { key: k } }), GW.num(last[k], 3))));
  }

  function metricChips(metrics) {
    const entries = Object.entries(metrics || {});
    if (!entries.length) return h("span", { class: "muted", text: "–" });
    return h("span", { class: "chips" }, entries.slice(0, 4).map(([k, m]) => h("span", { class: "chip", title: `${GW.metricInfo(k).label} at epoch ${m.epoch}` },
      h("span", { class: "chip-key", text: GW.metricInfo(k).label }), GW.num(m.value, 3))));
  }

  function matches(run, filters) {
    if (filters.status && run.status !== filters.status) return false;
    if (filters.verdict) {
      const kind = run.verdict ? run.verdict.kind : "none";
      if (kind !== filters.verdict) return false;
    }
    if (filters.q) {
      const hay = `${run.id} ${run.name} ${run.summary || ""}`.toLowerCase();
      if (!hay.includes(filters.q.toLowerCase())) return false;
    }
    return true;
  }

  function select(name, label, options, value) {
    return h("label", { class: "field" }, h("span", { class: "field-label", text: label }),
      h("select", { attrs: { name, "aria-label": label } }, options.map(([v, text]) => h("option", { attrs: { value: v, selected: v === value }, text }))));
  }

  GW.views.runs = function (main, source, params) {
    const filters = { status: params.get("status") || "", verdict: params.get("verdict") || "", q: params.get("q") || "" };
    const chosen = new Set();
    let runs = [];
    let lastJson = "";

    const statusSelect = select("status", "Status", [["", "any"], ...Object.keys(GW.STATUSES).map((s) => [s, s])], filters.status);
    const verdictSelect = select("verdict", "Verdict", [["", "any"], ...Object.entries(GW.VERDICTS).map(([k, v]) => [k, v.label]), ["none", "no verdict"]], filters.verdict);
    const search = h("input", { class: "search", attrs: { type: "search", placeholder: "Filter by name…", value: filters.q, "aria-label": "Filter by name" } });
    const compareBtn = h("a", { class: "btn primary disabled", href: "#", attrs: { "aria-disabled": "true" }, text: "Compare" });
    const count = h("span", { class: "count muted" });
    const tbody = h("tbody");
    const table = h("table", { class: "runs", attrs: { id: "runs-table" } },
      h("thead", null, h("tr", null,
        h("th", { class: "pick", attrs: { "aria-label": "Compare" } }),
        h("th", { class: "preview-cell", attrs: { "aria-label": "Samples" } }),
        h("th", { text: "Run" }), h("th", { text: "Status" }), h("th", { text: "Verdict" }),
        h("th", { text: "Progress" }), h("th", { text: "G loss by epoch" }),
        h("th", { text: "Last losses (G · D real · D fake)" }), h("th", { text: "Metrics" }), h("th", { text: "Updated" }))),
      tbody);
    const emptyNote = h("div", { class: "empty-state" });

    GW.clear(main);
    GW.append(main, [
      h("div", { class: "page-head" },
        h("div", null, h("h1", { text: "Runs" }), count),
        h("div", { class: "toolbar" }, search, statusSelect, verdictSelect, compareBtn)),
      h("div", { class: "card table-card" }, table, emptyNote),
    ]);
    document.title = "Runs · ganwatch";

    function syncUrl() {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(filters)) if (v) q.set(k, v);
      const qs = q.toString();
      history.replaceState(null, "", source.href(qs ? `/?${qs}` : "/"));
    }

    function updateCompare() {
      const ids = [...chosen];
      const ok = ids.length >= 2 && ids.length <= MAX_COMPARE;
      compareBtn.textContent = ids.length ? `Compare ${ids.length} runs` : "Compare";
      compareBtn.classList.toggle("disabled", !ok);
      compareBtn.setAttribute("aria-disabled", ok ? "false" : "true");
      compareBtn.setAttribute("href", ok ? source.href(`/compare?runs=${ids.join(",")}`) : "#");
      compareBtn.title = ok ? "" : `Tick 2 to ${MAX_COMPARE} runs to compare them`;
    }
    compareBtn.addEventListener("click", (ev) => { if (compareBtn.classList.contains("disabled")) ev.preventDefault(); });

    function row(run) {
      const box = h("input", { attrs: { type: "checkbox", "aria-label": `Compare run ${run.id}`, checked: chosen.has(run.id) } });
      box.addEventListener("change", () => {
        if (box.checked) chosen.add(run.id); else chosen.delete(run.id);
        updateCompare();
      });
      const link = source.href(`/runs/${run.id}`);
      return h("tr", { data: { runId: run.id, status: run.status, verdict: run.verdict ? run.verdict.kind : "none" } },
        h("td", { class: "pick" }, box),
        h("td", { class: "preview-cell" }, run.preview
          ? h("a", { href: link, class: "preview", title: "Newest fixed-noise samples" }, h("img", { attrs: { src: run.preview, alt: "", loading: "lazy" } }))
          : h("span", { class: "preview none" })),
        h("td", { class: "run-cell" },
          h("a", { class: "run-name", href: link, text: run.name }),
          h("span", { class: "run-id", text: `#${run.id}` }),
          h("div", { class: "run-summary", text: run.summary || "" })),
        h("td", null, GW.statusBadge(run.status, run.stale)),
        h("td", null, GW.verdictBadge(run.verdict)),
        h("td", { class: "progress-cell" },
          GW.progress(run.epochs_done, run.epochs_total),
          h("span", { class: "small", text: `epoch ${run.epochs_done}${run.epochs_total ? ` / ${run.epochs_total}` : ""} · step ${GW.int(run.step)}` })),
        h("td", null, GW.sparkline(run.spark || [], { color: GW.STEP_SERIES["loss/g"].color })),
        h("td", null, lastLosses(run.last)),
        h("td", null, metricChips(run.metrics)),
        h("td", { class: "small muted", title: GW.when(run.updated), text: GW.ago(run.updated) }));
    }

    function render() {
      const shown = runs.filter((r) => matches(r, filters));
      GW.clear(tbody);
      GW.append(tbody, shown.map(row));
      count.textContent = runs.length === shown.length ? `${runs.length} run${runs.length === 1 ? "" : "s"}` : `${shown.length} of ${runs.length} runs`;
      GW.clear(emptyNote);
      emptyNote.hidden = shown.length > 0;
      if (!runs.length) {
        GW.append(emptyNote, [h("strong", { text: "No runs in this store yet." }), h("p", null, "Start one and it appears here while it trains: ", h("code", { text: "ganwatch train --preset stable --scale quick" }))]);
      } else if (!shown.length) {
        GW.append(emptyNote, h("p", { text: "No run matches these filters." }));
      }
      updateCompare();
    }

    async function refresh() {
      const next = await source.runs();
      const json = JSON.stringify(next);
      if (json === lastJson) return;
      lastJson = json;
      runs = next;
      const known = new Set(runs.map((r) => r.id));
      for (const id of [...chosen]) if (!known.has(id)) chosen.delete(id);
      render();
    }

    statusSelect.querySelector("select").addEventListener("change", (ev) => { filters.status = ev.target.value; syncUrl(); render(); });
    verdictSelect.querySelector("select").addEventListener("change", (ev) => { filters.verdict = ev.target.value; syncUrl(); render(); });
    search.addEventListener("input", () => { filters.q = search.value.trim(); syncUrl(); render(); });

    let stop = () => {};
    let disposed = false;
    refresh()
      .then(() => {
        main.dataset.ready = "true";
        if (source.live && !disposed) stop = GW.every(3000, refresh);
      })
      .catch((err) => {
        GW.clear(emptyNote);
        emptyNote.hidden = false;
        GW.append(emptyNote, [h("strong", { text: "Could not read the runs." }), h("p", { class: "muted", text: String(err.message || err) })]);
      });
    return () => { disposed = true; stop(); };
  };
})(window.GW = window.GW || {});
