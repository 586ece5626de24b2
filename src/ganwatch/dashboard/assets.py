"""The dashboard's static files and the one HTML page that loads them.

Static files are read once from the package into a dict keyed by their relative name, and
requests are answered only from that dict: no request path is ever joined to a folder, so no
path (encoded or not) can reach a file outside it. The same files, in the same order, are
linked by the live page and inlined by the offline report.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".html": "text/html; charset=utf-8",
    ".png": "image/png",
}
# Load order matters: each script adds to the one global ``GW`` the later ones use.
STYLES = ("vendor/uPlot.min.css", "css/app.css")
SCRIPTS = (
    "vendor/uPlot.iife.min.js",
    "js/util.js",
    "js/source.js",
    "js/charts.js",
    "js/widgets.js",
    "js/view-runs.js",
    "js/view-run.js",
    "js/view-compare.js",
    "js/app.js",
)
ICON = "icon.svg"
SHELL = "app.html"
_MARKER = re.compile(r"<!--GW:(TITLE|HEAD|TAIL)-->")


@dataclass(frozen=True)
class Asset:
    body: bytes
    content_type: str


@lru_cache(maxsize=1)
def static_files() -> dict[str, Asset]:
    """Every servable static file, by its '/'-separated name under ``static/``."""
    root = resources.files("ganwatch.dashboard") / "static"
    found: dict[str, Asset] = {}
    pending = [(root, "")]
    while pending:
        folder, prefix = pending.pop()
        for entry in folder.iterdir():
            name = f"{prefix}{entry.name}"
            if entry.is_dir():
                pending.append((entry, f"{name}/"))
                continue
            suffix = "." + entry.name.rsplit(".", 1)[-1] if "." in entry.name else ""
            if suffix in CONTENT_TYPES:
                found[name] = Asset(entry.read_bytes(), CONTENT_TYPES[suffix])
    return found


def _text(name: str) -> str:
    return static_files()[name].body.decode("utf-8")


def csp_hash(text: str) -> str:
    """The CSP source that allows exactly this inline script or style, and nothing else."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def server_page(title: str = "ganwatch") -> str:
    """The page the server sends for every view: it links the static files, inlines nothing
    (so the server's CSP can forbid inline code), and the scripts draw the view."""
    styles = "\n".join(f'<link rel="stylesheet" href="/static/{name}">' for name in STYLES)
    scripts = "\n".join(f'<script src="/static/{name}" defer></script>' for name in SCRIPTS)
    return _fill(title, head=styles + f'\n<link rel="icon" href="/static/{ICON}">', tail=scripts)


def _json_for_script(data_json: str) -> str:
    """JSON that is safe inside a ``<script>`` element: no ``</script>`` or comment can form."""
    return (
        data_json.replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def report_page(title: str, data_json: str) -> str:
    """One self-contained page: styles, scripts and data inline, pinned by a CSP.

    The CSP allows only these exact scripts and styles (by hash) and images from ``data:``,
    and no connections at all: the file works offline and cannot reach out even if a run's
    text were crafted to try.
    """
    styles = [_text(name) for name in STYLES]
    scripts = [_text(name) for name in SCRIPTS]
    for text in (*styles, *scripts):
        # Such text would end its element early; none of ours has it, and none may.
        if "</script" in text.lower() or "</style" in text.lower():
            raise ValueError("a static file contains a closing tag and cannot be inlined")
    icon = base64.b64encode(static_files()[ICON].body).decode("ascii")
    policy = "; ".join(
        (
            "default-src 'none'",
            "img-src data:",
            "style-src " + " ".join(csp_hash(text) for text in styles),
            "script-src " + " ".join(csp_hash(text) for text in scripts),
            "base-uri 'none'",
            "form-action 'none'",
        )
    )
    head = "\n".join(
        [
            f'<meta http-equiv="Content-Security-Policy" content="{html.escape(policy)}">',
            f'<link rel="icon" href="data:image/svg+xml;base64,{icon}">',
            *(f"<style>{text}</style>" for text in styles),
        ]
    )
    tail = "\n".join(
        [
            f'<script type="application/json" id="gw-data">{_json_for_script(data_json)}</script>',
            *(f"<script>{text}</script>" for text in scripts),
        ]
    )
    return _fill(title, head=head, tail=tail)


def _fill(title: str, head: str, tail: str) -> str:
    """Put the parts into the shell in one pass, so inserted text is never searched again."""
    parts = {"TITLE": html.escape(title), "HEAD": head, "TAIL": tail}
    return _MARKER.sub(lambda match: parts[match.group(1)], _text(SHELL))
