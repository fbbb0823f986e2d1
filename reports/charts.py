"""Charts of the reports as SVG drawn on the server with pygal: no JavaScript, readable on a
360 px phone, each beside a table that carries the same figures (the accessible version).

Two outputs of the same drawing:

- on a page (``standalone=False``, the default), the SVG goes inline without pygal's
  ``<style>``, ``<script>`` and tooltip: the site's Content Security Policy allows styles and
  scripts from our own files only (``style-src 'self'``, no nonce, no ``data:`` images), so
  ``static/reports/reports.css`` styles the chart's classes, and the text takes the page's
  font (Chinese included);
- in a PDF (``standalone=True``), pygal's own ``<style>`` stays, with a CJK font first: the
  SVG needs nothing else (WeasyPrint reads it as an image or inline).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pygal
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from pygal.style import Style

from reports.figures import Breakdown

SVG = "http://www.w3.org/2000/svg"
ET.register_namespace("", SVG)
ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")

WIDTH = 360  # viewBox units: about the column of a 360 px phone, so 16 stays near 16 px
MAX_BARS = 15  # more rows stay in the table
LABEL_CHARS = 8  # longer labels are cut in the chart (the table has them whole)
FONT_SIZE = 16
FONT = (
    '"Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "Microsoft YaHei", sans-serif'
)
STYLE = Style(
    font_family=FONT,
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#333333",
    foreground_strong="#111111",
    foreground_subtle="#999999",
    colors=("#2a6f97", "#a9c5d6"),
    opacity="1",
    opacity_hover="1",
    label_font_size=FONT_SIZE,
    major_label_font_size=FONT_SIZE,
    value_font_size=FONT_SIZE,
    title_font_size=18,
    legend_font_size=16,
    no_data_font_size=20,
)


def bar_chart(
    breakdown: Breakdown, *, horizontal: bool = True, standalone: bool = False
) -> SafeString:
    """The rows of ``breakdown`` as bars (hours when its unit is minutes), the first row at
    the top; empty markup when there is nothing to draw (the table says so).

    Horizontal bars suit any number of rows and long labels on a phone; upright ones only a
    handful of short labels (age bands, ratings 1-5)."""
    rows = [row for row in breakdown.rows[:MAX_BARS]]
    if not rows or not any(row.value for row in rows):
        return mark_safe("")
    to_value = _hours if breakdown.unit == "minutes" else (lambda v: v)
    labels = [_cut(row.label) for row in rows]
    if horizontal:
        rows.reverse()  # pygal draws the first label at the bottom
        labels.reverse()
        chart = pygal.HorizontalBar(
            height=40 + 36 * len(rows),
            margin_left=8 + max(_extra_width(label) for label in labels),
            show_x_labels=False,  # the values are printed on the bars
            **_config(breakdown),
        )
    else:
        chart = pygal.Bar(height=240, show_y_labels=False, **_config(breakdown))
    chart.x_labels = labels
    chart.add(breakdown.title, [to_value(row.value) for row in rows])
    return _svg(chart, breakdown.title, standalone=standalone, horizontal=horizontal)


def _config(breakdown: Breakdown) -> dict:
    return {
        "width": WIDTH,
        "js": [],
        "style": STYLE,
        "show_legend": False,
        "print_values": True,
        "print_values_position": "top",
        "value_formatter": _number,
        "no_data_text": _("No data"),
        "margin": 8,
        "margin_right": 32,  # room for the value printed at the end of the longest bar
        "show_y_guides": False,
        "show_x_guides": False,
        "truncate_label": -1,  # labels come cut to LABEL_CHARS already
        "disable_xml_declaration": True,
    }


def _cut(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def _extra_width(label: str) -> int:
    """What pygal's estimate of a label's width (0.6 em a character) misses: Chinese
    characters are a full em wide."""
    wide = sum(1 for char in label if ord(char) > 0x2E80)
    return round(wide * 0.45 * FONT_SIZE)


def _hours(minutes: int) -> float:
    return round(minutes / 60, 1)


def _number(value) -> str:
    return f"{value:g}" if value is not None else ""


def _svg(chart, title: str, *, standalone: bool, horizontal: bool) -> SafeString:
    root = chart.render_tree()
    for parent in list(root.iter()):
        for child in list(parent):
            if not isinstance(child.tag, str):  # pygal's comments
                parent.remove(child)
                continue
            tag = child.tag.rsplit("}", 1)[-1]
            tooltips = tag == "g" and "tooltip-overlay" in child.get("class", "")
            if tag == "script" or (tag == "style" and not standalone) or tooltips:
                parent.remove(child)
            elif tag == "title" and parent is root:
                child.text = title
    for element in root.iter():
        element.attrib.pop("style", None)
        if horizontal and element.get("class") == "value" and element.get("text-anchor"):
            # After the end of the bar, not across it.
            element.set("text-anchor", "start")
            element.set("x", f"{float(element.get('x', 0)) + 4:.1f}")
    root.set("role", "img")
    root.set("aria-label", title)
    root.set("class", "pygal-chart report-chart-svg")
    # ElementTree escapes every text and attribute (labels are names and titles people typed).
    return mark_safe(ET.tostring(root, encoding="unicode"))  # noqa: S308
