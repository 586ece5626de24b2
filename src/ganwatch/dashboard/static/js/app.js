/* Start-up: pick the data source (live server or embedded report), read ganwatch's catalog of
 * names from it, read the route (the path when served, the #hash in a report file) and draw its
 * view. In a report, following a link
 * changes the hash and the view is redrawn without leaving the file. */
(function (GW) {
  "use strict";
  const { h } = GW;

  function parse(route) {
    const url = new URL(route, "http://ganwatch.invalid");
    const path = url.pathname.replace(/\/+$/, "") || "/";
    const run = /^\/runs\/(\d{1,18})$/.exec(path);
    if (path === "/") return { view: "runs", params: url.searchParams };
    if (run) return { view: "run", params: url.searchParams, id: run[1] };
    if (path === "/compare") return { view: "compare", params: url.searchParams };
    return { view: null, params: url.searchParams };
  }

  async function start() {
    const source = GW.makeSource();
    GW.useCatalog(await source.catalog());
    const main = document.getElementById("gw-main");
    const home = document.getElementById("gw-home");
    const mode = document.getElementById("gw-mode");
    home.setAttribute("href", source.href("/"));
    document.body.dataset.mode = source.mode;
    if (source.mode === "report") {
      mode.textContent = `report · ${GW.when(source.generated)} · ganwatch ${source.version}`;
    } else {
      mode.appendChild(h("span", { class: "live-dot", attrs: { "aria-hidden": "true" } }));
      mode.appendChild(document.createTextNode("live"));
      mode.title = "Updates every few seconds while runs train";
    }
    let dispose = () => {};

    function render() {
      dispose();
      dispose = () => {};
      delete main.dataset.ready;
      const r = parse(source.route());
      const view = r.view && GW.views[r.view];
      if (!view) {
        GW.clear(main);
        GW.append(main, [h("h1", { text: "Not found" }), h("a", { href: source.href("/"), text: "All runs" })]);
        return;
      }
      dispose = view(main, source, r.params, r.id) || (() => {});
      window.scrollTo(0, 0);
    }

    if (source.mode === "report") window.addEventListener("hashchange", render);
    render();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})(window.GW = window.GW || {});
