"""Sphinx extension of the LED book: each script of a page is emitted once, and the
book's stylesheet (``static/led-book.css``: outputs, code and tables fit the column).

Sphinx 7.4 keeps an inline script added by an extension after the builder started (as
sphinx-thebe and sphinx-togglebutton do in ``env-before-read-docs``) twice: once with
``filename=None`` and once with ``filename=''``, which compare unequal. The page then
declares ``const THEBE_JS_URL`` twice, a SyntaxError on every page. Keep the first of
each (file, attributes) pair.
"""

from __future__ import annotations

from pathlib import Path

STATIC = Path(__file__).resolve().parent / "static"


def _key(js):
    return (js.filename or "", js.priority, tuple(sorted(js.attributes.items())))


def dedupe_scripts(app, pagename, templatename, context, doctree):
    files = context.get("script_files")
    if not files:
        return
    seen, kept = set(), []
    for js in files:
        k = _key(js) if hasattr(js, "attributes") else (str(js),)
        if k not in seen:
            seen.add(k)
            kept.append(js)
    files[:] = kept


def _add_static(app):
    app.config.html_static_path.append(str(STATIC))


def setup(app):
    app.connect("builder-inited", _add_static)
    app.add_css_file("led-book.css")
    app.connect("html-page-context", dedupe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
