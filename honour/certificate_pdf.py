"""Certificates printed as A4 PDF by WeasyPrint: every font embedded, the seal read from
disk, the QR code to /verify/<number>/ drawn inline; nothing fetched over the network."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from honour.models import Certificate
from ledger.honour import level_name
from ledger.services import hours
from timebank.qr import qr_svg

Kind = Certificate.Kind
BREAKDOWN_ROWS = 10  # rows of the printed table; more are summed in its last row
PAGES_PER_RENDER = 25  # a batch is laid out in chunks, so that its page can show progress


def _for_printing(queryset: QuerySet[Certificate]) -> list[Certificate]:
    return list(
        queryset.select_related(
            "member", "street", "street__parent", "nomination__round", "nomination__base"
        )
    )


TITLES = {
    Kind.LEVEL: gettext_lazy("Honour level certificate"),
    Kind.HOURS: gettext_lazy("Certificate of volunteer service hours"),
    Kind.AWARD: gettext_lazy("Certificate of commendation"),
}


@dataclass(frozen=True)
class Printed:
    """One certificate as its page shows it (everything translated, zh-Hans)."""

    certificate: Certificate
    title: str
    holder: str  # the member's full name, or an organisation and its project
    issuer: str  # the district's time bank
    verify_url: str
    qr: str
    hours: str
    level: str
    award: str
    breakdown: list[dict]


def _holder(cert: Certificate) -> str:
    if cert.member_id:
        return cert.member.full_name or str(cert.member)
    nom = cert.nomination
    return " · ".join(part for part in (nom.base.name, nom.project_name) if part)


def award_title(cert: Certificate) -> str:
    """``2025年度星级志愿者``; empty for a certificate that is not an award's."""
    if cert.nomination_id is None:
        return ""
    award_round = cert.nomination.round
    return _("%(year)s %(award)s") % {
        "year": award_round.year,
        "award": award_round.get_kind_display(),
    }


def _printed(cert: Certificate, site_url: str) -> Printed:
    url = site_url.rstrip("/") + reverse("verify", args=[cert.number])
    district = cert.street.parent.name if cert.street.parent_id else cert.street.name
    return Printed(
        certificate=cert,
        title=str(TITLES[cert.kind]),
        holder=_holder(cert),
        issuer=_("%(district)s Elderly-care Time Bank") % {"district": district},
        verify_url=url,
        qr=qr_svg(url, scale=3),  # natural size, about 3 cm: the SVG has no viewBox to scale
        hours=hours(cert.minutes) if cert.minutes is not None else "",
        level=level_name(cert.level) if cert.level else "",
        award=award_title(cert),
        breakdown=_breakdown_rows(cert.breakdown),
    )


def _breakdown_rows(breakdown: list[dict]) -> list[dict]:
    """The table as printed: the largest rows, the rest summed in one, so that it fits on
    its page (the stored breakdown keeps every row; the total is the same)."""
    shown, rest = breakdown[: BREAKDOWN_ROWS - 1], breakdown[BREAKDOWN_ROWS - 1 :]
    if len(rest) == 1:
        shown, rest = breakdown, []
    rows = [
        {
            "category": row["category"] or _("Other service"),
            "base": row["base"] or "—",
            "hours": hours(row["minutes"]),
        }
        for row in shown
    ]
    if rest:
        rows.append(
            {
                "category": _("%(count)s more kinds of service") % {"count": len(rest)},
                "base": "—",
                "hours": hours(sum(row["minutes"] for row in rest)),
            }
        )
    return rows


class LocalFiles:
    """WeasyPrint's URL fetcher for certificates: data: URLs and files in the allowed
    folders only, so that printing never goes to the network."""

    def __init__(self, folders: Iterable[Path]):
        from weasyprint.urls import URLFetcher

        self.fetcher = URLFetcher(allowed_protocols={"file", "data"}, fail_on_errors=True)
        self.folders = [folder.resolve() for folder in folders]
        self._fail_on_errors = True  # weasyprint.urls.fetch reads it

    def __call__(self, url: str):
        if url.startswith("file:"):
            path = Path(url2pathname(urlparse(url).path)).resolve()
            if not any(path.is_relative_to(folder) for folder in self.folders):
                raise ValueError(f"not a certificate file: {url}")
        return self.fetcher.fetch(url)


STATIC = Path(__file__).resolve().parent.parent / "static" / "honour"


def seal_path() -> Path:
    path = Path(settings.CERTIFICATE_SEAL_PATH)
    if not path.is_file():
        raise ImproperlyConfigured(f"CERTIFICATE_SEAL_PATH={path} is not a file")
    return path.resolve()


@cache
def _stylesheet(fetcher_folders: tuple[Path, ...]):
    from weasyprint import CSS

    return CSS(filename=str(STATIC / "certificate.css"), url_fetcher=LocalFiles(fetcher_folders))


def _render(certificates: list[Certificate], site_url: str):
    from weasyprint import HTML

    seal = seal_path()
    folders = (STATIC, seal.parent)
    html = render_to_string(
        "honour/certificates/pdf.html",
        {"pages": [_printed(c, site_url) for c in certificates], "seal_url": seal.as_uri()},
    )
    document = HTML(string=html, base_url=STATIC.as_uri() + "/", url_fetcher=LocalFiles(folders))
    return document.render(stylesheets=[_stylesheet(folders)])


def render_pdf(
    certificates: Iterable[Certificate],
    *,
    site_url: str,
    on_progress: Callable[[int], None] | None = None,
) -> bytes:
    """One page per certificate, in Chinese (an official document), as PDF bytes."""
    certificates = list(certificates)
    if not certificates:
        raise ValueError("no certificate to print")
    documents, done = [], 0
    with translation.override("zh-hans"):
        for first in range(0, len(certificates), PAGES_PER_RENDER):
            chunk = certificates[first : first + PAGES_PER_RENDER]
            documents.append(_render(chunk, site_url))
            done += len(chunk)
            if on_progress is not None:
                on_progress(done)
    pages = [page for document in documents for page in document.pages]
    pdf = documents[0].copy(pages).write_pdf()
    del documents, pages
    # A layout is a web of reference cycles: without a collection now, a process that prints
    # a few certificates in a row holds each one's hundred megabytes until the GC gets round.
    gc.collect()
    return pdf
