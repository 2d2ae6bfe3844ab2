"""Sphinx extension of the LED book: each script of a page is emitted once.

Sphinx 7.4 keeps an inline script added by an extension after the builder started (as
sphinx-thebe and sphinx-togglebutton do in ``env-before-read-docs``) twice: once with
``filename=None`` and once with ``filename=''``, which compare unequal. The page then
declares ``const THEBE_JS_URL`` twice, a SyntaxError on every page. Keep the first of
each (file, attributes) pair.
"""

from __future__ import annotations


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


def setup(app):
    app.connect("html-page-context", dedupe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
