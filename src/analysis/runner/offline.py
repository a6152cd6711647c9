"""HTML that opens from disk with no internet: nbconvert's templates load require.js and MathJax from a CDN
(cdnjs) with no setting that leaves them out, so their tags are removed from the exported page. One pattern
for the report site (`site._analysis_page`) and the executed notebooks' HTML under reports/runs/
(`worker.execute_job`). Kept in a module of its own, importing nothing: a worker must not import the site."""

from __future__ import annotations

import re

EXTERNAL = re.compile(r"<script[^>]+src=\"https?://[^\"]*\"[^>]*>\s*</script>|<link[^>]+href=\"https?://[^\"]*\"[^>]*>", re.I)
"""A `<script src="http(s)://…">` element or a `<link href="http(s)://…">` (stylesheet, font) tag."""


def offline(html: str) -> str:
    """`html` without scripts and stylesheets loaded from another site. Pages still show everything the
    notebooks print (text, tables, embedded figures); LaTeX in Markdown cells stays as its source text."""
    return EXTERNAL.sub("", html)
