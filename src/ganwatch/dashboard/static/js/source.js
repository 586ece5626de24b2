/* Where the pages get their data: the live server's /api/ routes, or the JSON a report file
 * embeds. Both answer the same questions in the same shapes, so the views do not care which
 * they read; only `live` differs (a report never changes, so nothing polls it). */
(function (GW) {
  "use strict";

  class NotFound extends Error {}

  async function getJSON(url) {
    const response = await fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" });
    if (response.status === 404) throw new NotFound(url);
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    return response.json();
  }

  function serverSource() {
    return {
      mode: "server",
      live: true,
      catalog: () => getJSON("/api/catalog"),
      runs: () => getJSON("/api/runs"),
      run: (id) => getJSON(`/api/runs/${encodeURIComponent(id)}`),
      steps: (id, after) => getJSON(`/api/runs/${encodeURIComponent(id)}/steps?after=${after || 0}`),
      epochs: (id) => getJSON(`/api/runs/${encodeURIComponent(id)}/epochs`),
      href: (path) => path,
      route: () => location.pathname + location.search,
    };
  }

  function reportSource(data) {
    const lookup = (table, id) => {
      const value = data[table][String(id)];
      if (value === undefined) throw new NotFound(`run ${id}`);
      return value;
    };
    return {
      mode: "report",
      live: false,
      generated: data.generated,
      version: data.version,
      catalog: async () => data.catalog,
      runs: async () => data.runs,
      run: async (id) => lookup("details", id),
      steps: async (id, after) => {
        const all = lookup("steps", id);
        if (!after) return all;
        const from = all.steps.findIndex((s) => s > after);
        const cut = from < 0 ? all.steps.length : from;
        const series = {};
        for (const [k, v] of Object.entries(all.series)) series[k] = v.slice(cut);
        return { after, steps: all.steps.slice(cut), series };
      },
      epochs: async (id) => lookup("epochs", id),
      href: (path) => `#${path}`,
      route: () => (location.hash.length > 1 ? location.hash.slice(1) : data.start || "/"),
    };
  }

  function makeSource() {
    const el = document.getElementById("gw-data");
    return el ? reportSource(JSON.parse(el.textContent)) : serverSource();
  }

  Object.assign(GW, { makeSource, NotFound });
})(window.GW = window.GW || {});
