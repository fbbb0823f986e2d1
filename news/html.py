"""News bodies as HTML a browser may show: a small allow-list kept by nh3 (ammonia).

Everything else goes: scripts and styles with their content, event attributes (``onclick``),
``style``, ``javascript:`` and ``data:`` links, comments. Links open nothing with access to
the page (``rel="noopener noreferrer"``). Plain text (no tag at all) becomes paragraphs,
so staff may simply type.
"""

from __future__ import annotations

import nh3
from django.utils.html import linebreaks
from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = frozenset(
    {"p", "br", "strong", "em", "ul", "ol", "li", "h2", "h3", "a", "blockquote"}
)
ALLOWED_ATTRIBUTES = {"a": {"href"}}
URL_SCHEMES = frozenset({"http", "https", "mailto", "tel"})


def sanitize_body(text: str) -> str:
    """The body as stored: allowed tags only; plain text turned into paragraphs."""
    text = (text or "").strip()
    if "<" not in text:
        text = linebreaks(text)  # escapes the text; blank lines separate paragraphs
    return nh3.clean(
        text,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer",
        strip_comments=True,
    ).strip()


def safe_body(text: str) -> SafeString:
    """For templates: sanitized again at render, so a row written around the services (a
    data migration, the shell) cannot carry a script to readers."""
    return mark_safe(sanitize_body(text))  # noqa: S308 - nh3 has just cleaned it
