"""HTML to A4 PDF with WeasyPrint, for every printed report.

The fonts are the system's Noto CJK (fonts-noto-cjk), embedded in the PDF as subsets; nothing
is fetched over the network: the URL fetcher allows ``data:`` URLs only, so a chart or an
image travels inside the HTML, and any other URL stops the printing (a template's mistake
to see, not a blank space to miss). The idea of honour.certificate_pdf.LocalFiles, copied
and narrowed rather than shared: a report reads no file from disk either.
"""

from __future__ import annotations

import gc
from typing import BinaryIO


class DataUrlsOnly:
    """WeasyPrint's URL fetcher for reports: ``data:`` URLs, nothing else."""

    def __init__(self):
        from weasyprint.urls import URLFetcher

        self.fetcher = URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
        self._fail_on_errors = True  # weasyprint.urls.fetch reads it

    def __call__(self, url: str):
        if not url.startswith("data:"):
            raise ValueError(f"a printed report fetches nothing: {url[:80]}")
        return self.fetcher.fetch(url)


def render_pdf(html: str, out: BinaryIO | None = None) -> bytes | None:
    """Lay out ``html`` (its own CSS sets ``@page { size: A4 }``) and write the PDF into
    ``out``, or return it as bytes when no file is given."""
    from weasyprint import HTML

    document = HTML(string=html, base_url="data:,", url_fetcher=DataUrlsOnly()).render()
    try:
        return document.write_pdf(out) if out is not None else document.write_pdf()
    finally:
        # A layout is a web of reference cycles holding the whole document: collect it now,
        # or a worker printing several reports in a row keeps each one's memory for a while.
        del document
        gc.collect()
