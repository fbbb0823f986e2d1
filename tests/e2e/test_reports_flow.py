"""The district's official in chromium: opens the reports dashboard, narrows it to 虹桥 by
clicking the street in a table, and downloads 虹桥's services as Excel and the assessment
report as a PDF; both files hold 虹桥 only, and the pages raise no console error (a CSP
violation is one)."""

from __future__ import annotations

import io
import re
from urllib.parse import parse_qs, urlencode, urlparse

import openpyxl
import pytest
from pypdf import PdfReader

from tests.e2e.test_phone_layout import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TIANSHAN = ("天山养老院", "天山陪伴一", "天山陪伴二", "王志愿", "李志愿")


@pytest.fixture
def desk(browser):
    """A desktop window in Chinese that accepts downloads and records console errors."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="zh-CN", accept_downloads=True
    )
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text))
    page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
    yield page
    context.close()


def figure(page, label: str) -> str:
    """The value of the headline figure called ``label`` ("完成的服务" → "3")."""
    card = page.locator(".report-figure").filter(
        has=page.locator(".report-figure-label", has_text=re.compile(f"^{label}$"))
    )
    return card.locator(".report-figure-value").inner_text().strip()


def downloaded(page, testid: str):
    with page.expect_download() as info:
        page.get_by_test_id(testid).click()
    download = info.value
    assert download.failure() is None
    with open(download.path(), "rb") as handle:
        return download.suggested_filename, handle.read()


def test_official_narrows_to_hongqiao_and_downloads_its_files(
    live_server, desk, world, official, street_b
):
    log_in(desk, live_server, official)
    desk.goto(f"{live_server.url}/reports/?{urlencode(world.query())}")
    assert desk.get_by_role("heading", level=1).inner_text() == "统计报表: 长宁区"
    assert figure(desk, "完成的服务") == "3"
    assert figure(desk, "服务时长") == "4 小时"
    main = desk.locator("main").inner_text()
    assert "天山养老院" in main and "虹桥日间照料中心" in main

    # The members-by-street table's 虹桥 row narrows the page to the street.
    desk.locator(".report-breakdown table").get_by_role(
        "link", name="虹桥", exact=True
    ).first.click()
    desk.wait_for_load_state()
    query = parse_qs(urlparse(desk.url).query)
    assert query["street"] == [str(street_b.pk)]
    assert query["month"] == [world.query()["month"]]  # the period is kept
    assert desk.get_by_role("heading", level=1).inner_text() == "统计报表: 虹桥"
    assert figure(desk, "完成的服务") == "1"
    assert figure(desk, "服务时长") == "2 小时"
    main = desk.locator("main").inner_text()
    assert "虹桥日间照料中心" in main and "赵虹桥" in main
    for name in TIANSHAN:
        assert name not in main, name
    assert desk.get_by_role("link", name="返回长宁区").count() == 1

    filename, content = downloaded(desk, "report-xlsx")
    assert filename.endswith(".xlsx") and "虹桥" in filename
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0][:6] == ["需求编号", "需求", "服务类别", "街道", "服务基地", "志愿者"]
    assert rows[0][9] == "确认时长（小时）"
    assert len(rows) == 2  # the heading and 虹桥's one service
    assert rows[1][1:6] == ["虹桥陪伴", "陪伴(机构)", "虹桥", "虹桥日间照料中心", "赵虹桥"]
    assert rows[1][9] == 2

    filename, content = downloaded(desk, "report-pdf")
    assert filename.endswith(".pdf") and "虹桥" in filename
    assert content.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(content))
    for page in reader.pages:
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)
    text = "".join("".join(page.extract_text().split()) for page in reader.pages)
    assert "虹桥" in text and "虹桥日间照料中心" in text
    assert "天山养老院" not in text

    assert desk.console_errors == []
