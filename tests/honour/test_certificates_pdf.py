"""The printed certificate (WeasyPrint): what its text says, every font embedded, the seal
and the QR code on the page, nothing fetched from the network."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from pypdf import PdfReader

from honour import certificate_pdf, certificates
from honour.models import Certificate
from ledger.spending import today
from tests.honour.test_certificates import HOUR, award_round, credit, nominate, serve_hours  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

SITE = "https://timebank.example.cn/"


def read(pdf: bytes) -> PdfReader:
    assert pdf.startswith(b"%PDF-")
    return PdfReader(io.BytesIO(pdf))


def text_of(reader: PdfReader) -> str:
    # Layout puts spaces and line breaks between runs; compare text without them.
    return "".join("".join(page.extract_text().split()) for page in reader.pages)


def fonts_of(reader: PdfReader) -> list[tuple[str, dict]]:
    """(name, font descriptor) of every font on every page, composite fonts' descendants
    included (where CJK glyphs live)."""
    found = []
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            parts = [d.get_object() for d in font.get("/DescendantFonts", [])] or [font]
            for part in parts:
                found.append((str(font["/BaseFont"]), part["/FontDescriptor"].get_object()))
    return found


def xobjects(resources):
    """Every drawn object, those inside forms (the seal is drawn half-transparent) too."""
    for xobject in (resources.get("/XObject") or {}).values():
        xobject = xobject.get_object()
        yield xobject
        if "/Resources" in xobject:
            yield from xobjects(xobject["/Resources"].get_object())


@pytest.fixture
def hours_certificate(volunteer):
    start = today() - timedelta(days=20)
    credit(volunteer, 90, on=start)
    credit(volunteer, 2 * HOUR, on=start + timedelta(days=3))
    return certificates.issue_hours_certificate(
        member=volunteer, start=start, end=today(), actor=volunteer
    )


def test_an_hours_proof_names_the_member_in_full_with_the_hours(hours_certificate):
    text = text_of(read(certificates.render_pdf([hours_certificate], site_url=SITE)))
    assert "王志愿" in text  # the member's full name: the certificate is theirs
    assert "3.5小时" in text
    assert "志愿服务时长证明" in text
    assert "长宁区" in text
    assert hours_certificate.number in text
    assert f"{SITE}verify/{hours_certificate.number}/" in text
    start = hours_certificate.period_start
    assert f"{start.year}年{start.month}月{start.day}日" in text


def test_every_font_is_embedded_and_the_text_is_chinese(hours_certificate):
    reader = read(certificates.render_pdf([hours_certificate], site_url=SITE))
    fonts = fonts_of(reader)
    assert fonts
    for name, descriptor in fonts:
        embedded = {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor.keys())
        assert embedded, f"{name} is not embedded"
    assert any("CJK" in name for name, _descriptor in fonts)


def test_the_page_carries_the_seal_and_a_qr_code(hours_certificate):
    page = read(certificates.render_pdf([hours_certificate], site_url=SITE)).pages[0]
    assert page["/Resources"]["/XObject"]  # the seal (an SVG drawn as a form)
    # The QR code is vector paths: hundreds of rectangles' worth of drawing commands.
    assert page.get_contents().get_data().count(b" l") > 200
    width, height = float(page.mediabox.width), float(page.mediabox.height)
    assert (round(width), round(height)) == (595, 842)  # A4 in points


def test_a_level_and_an_award_certificate(volunteer, award_round, street_a, staff_a, head_office):  # noqa: F811
    serve_hours(volunteer, 300)
    level = certificates.issue_level_certificate(member=volunteer, actor=volunteer)
    nomination = nominate(award_round, street=street_a, by=staff_a, member=volunteer)
    award = certificates.issue_award_certificate(nomination=nomination, actor=head_office)
    reader = read(certificates.render_pdf([level, award], site_url=SITE))
    assert len(reader.pages) == 2
    first, second = ("".join(p.extract_text().split()) for p in reader.pages)
    assert "荣誉等级证书" in first and "二星" in first and "300小时" in first
    assert "表彰证书" in second and "2025年度" in second and "王志愿" in second


def test_an_organisation_award_names_the_base(award_round, base_b, staff_b, head_office):  # noqa: F811
    nomination = nominate(
        award_round, street=base_b.street, by=staff_b, base=base_b, project_name="银发陪伴"
    )
    cert = certificates.issue_award_certificate(nomination=nomination, actor=head_office)
    text = text_of(read(certificates.render_pdf([cert], site_url=SITE)))
    assert "虹桥日间照料中心" in text and "银发陪伴" in text


def test_a_revoked_certificate_prints_as_revoked(hours_certificate, head_office):
    certificates.revoke(certificate=hours_certificate, actor=head_office, reason="信息有误")
    cert = Certificate.objects.get(pk=hours_certificate.pk)
    assert "已撤销" in text_of(read(certificates.render_pdf([cert], site_url=SITE)))


def test_many_certificates_make_one_pdf_with_a_page_each(volunteer, monkeypatch):
    serve_hours(volunteer, 100)
    certs = [
        certificates.issue_level_certificate(member=volunteer, actor=volunteer) for _ in range(5)
    ]
    monkeypatch.setattr(certificate_pdf, "PAGES_PER_RENDER", 2)
    seen = []
    reader = read(certificates.render_pdf(certs, site_url=SITE, on_progress=seen.append))
    assert len(reader.pages) == 5
    assert seen == [2, 4, 5]
    numbers = [cert.number for cert in certs]
    assert [n for page in reader.pages for n in numbers if n in page.extract_text()] == numbers


def test_the_seal_comes_from_the_setting(hours_certificate, settings, tmp_path):
    seal = tmp_path / "seal.png"
    from PIL import Image

    Image.new("RGB", (40, 40), "red").save(seal)
    settings.CERTIFICATE_SEAL_PATH = str(seal)
    page = read(certificates.render_pdf([hours_certificate], site_url=SITE)).pages[0]
    images = list(xobjects(page["/Resources"]))
    assert any(image.get("/Subtype") == "/Image" and image["/Width"] == 40 for image in images)


def test_a_missing_seal_stops_printing(hours_certificate, settings, tmp_path):
    from django.core.exceptions import ImproperlyConfigured

    settings.CERTIFICATE_SEAL_PATH = str(tmp_path / "none.svg")
    with pytest.raises(ImproperlyConfigured):
        certificates.render_pdf([hours_certificate], site_url=SITE)


def test_printing_fetches_nothing_but_its_own_files(tmp_path):
    fetch = certificate_pdf.LocalFiles([tmp_path])
    (tmp_path / "ok.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    assert fetch((tmp_path / "ok.svg").as_uri()).read().startswith(b"<svg")
    assert fetch("data:text/plain,hello").read() == b"hello"
    for url in ("https://example.com/seal.png", "file:///etc/passwd", "ftp://example.com/x"):
        with pytest.raises(ValueError):
            fetch(url)
