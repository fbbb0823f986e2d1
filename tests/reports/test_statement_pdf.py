"""A member's own statement printed as A4 PDF from /coins/ (reports.statement_pdf): the
balances hand-counted, the period's edges at midnight in Shanghai, every font embedded, only
the signed-in member's own lines, and a wrong period answered on a form."""

# The orders fixtures (a need, its category and its payer) are imported, then named as arguments.
# ruff: noqa: F811

from __future__ import annotations

import io
import uuid
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from pypdf import PdfReader

from ledger import selectors as ledger_selectors
from ledger import services as ledger
from ledger.models import Transfer
from orders import services as orders
from reports import pdf, statement_pdf
from reports.period import Period
from tests.ledger.test_audit import trigger_off
from tests.ledger.test_statements import make_gift
from tests.orders.conftest import base_funds, category, make_need  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

HOUR = 60
SHANGHAI = ZoneInfo("Asia/Shanghai")
LEDGER_WORDS = ("托管", "发放池", "待定", "预留", "冻结", "debit", "credit", "escrow")


# --- reading a PDF (shared with test_assessment_pdf) -------------------------------------------


def read(pdf: bytes) -> PdfReader:
    assert pdf.startswith(b"%PDF-")
    return PdfReader(io.BytesIO(pdf))


def text_of(reader: PdfReader) -> str:
    # Layout puts spaces and line breaks between runs; compare text without them.
    return "".join("".join(page.extract_text().split()) for page in reader.pages)


def _resources(resources, seen=None):
    """A resource dictionary and those of the forms drawn from it (charts are forms); a
    form may share its page's dictionary, so each is visited once."""
    seen = set() if seen is None else seen
    if id(resources) in seen:
        return
    seen.add(id(resources))
    yield resources
    for ref in (resources.get("/XObject") or {}).values():
        xobject = ref.get_object()
        if "/Resources" in xobject:
            yield from _resources(xobject["/Resources"].get_object(), seen)


def fonts_of(reader: PdfReader) -> list[tuple[str, dict]]:
    """(name, font descriptor) of every font on every page and in every form drawn on it,
    composite fonts' descendants included (where CJK glyphs live)."""
    found = []
    for page in reader.pages:
        for resources in _resources(page["/Resources"]):
            for font in (resources.get("/Font") or {}).values():
                font = font.get_object()
                parts = [d.get_object() for d in font.get("/DescendantFonts", [])] or [font]
                for part in parts:
                    found.append((str(font["/BaseFont"]), part["/FontDescriptor"].get_object()))
    return found


def assert_fonts_embedded(reader: PdfReader) -> None:
    fonts = fonts_of(reader)
    assert fonts
    for name, descriptor in fonts:
        embedded = {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor.keys())
        assert embedded, f"{name} is not embedded"
    assert any("CJK" in name for name, _descriptor in fonts)


# --- the printer (reports.pdf) ---------------------------------------------------------------


def test_printing_fetches_nothing_from_the_network_or_the_disk():
    fetch = pdf.DataUrlsOnly()
    assert fetch("data:text/plain,hello").read() == b"hello"
    for url in ("https://example.com/a.png", "http://10.0.0.1/x.css", "file:///etc/passwd"):
        with pytest.raises(ValueError):
            fetch(url)


@pytest.mark.parametrize(
    "tag",
    [
        '<link rel="stylesheet" href="https://example.com/a.css">',
        '<img src="file:///etc/passwd">',
    ],
)
def test_a_page_asking_for_outside_files_is_not_printed(tag):
    """A report's template carries everything inline: a stray link is a mistake to see."""
    from weasyprint.urls import FatalURLFetchingError

    with pytest.raises(FatalURLFetchingError):
        pdf.render_pdf(f"<html><body><p>你好</p>{tag}</body></html>", io.BytesIO())


def test_it_writes_into_a_file_or_returns_bytes():
    out = io.BytesIO()
    assert pdf.render_pdf("<p>你好</p>", out) is None
    assert "你好" in text_of(read(out.getvalue()))
    assert "你好" in text_of(read(pdf.render_pdf("<p>你好</p>")))


# --- the history ------------------------------------------------------------------------------


def at(day: date, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, second), tzinfo=SHANGHAI)


def dated(transfer_ids, when: datetime) -> None:
    """Move lines to ``when`` (transfers are immutable: lift the trigger for the test)."""
    with trigger_off():
        Transfer.objects.filter(pk__in=list(transfer_ids)).update(created_at=when)


def grant(user, minutes: int, when: datetime) -> Transfer:
    t = ledger.transfer(
        transfer_id=uuid.uuid4(),
        debit=ledger_selectors.grant_pool(user.member.street.parent),
        credit=ledger_selectors.member_account(user),
        amount=minutes,
        code="grant",
        actor=None,
    )
    dated([t.pk], when)
    return t


def complete_service(make_need, volunteer, base_staff_a, minutes: int, when: datetime) -> None:
    """A base's need grabbed, signed in and out, and confirmed: the volunteer is paid."""
    need = make_need(starts_in=timedelta(minutes=10), auto_confirm=True, duration=minutes)
    a = orders.grab_place(service_request=need, volunteer=volunteer)
    orders.sign_in(assignment=a, actor=volunteer, code=need.checkin_code)
    orders.sign_out(assignment=a, actor=volunteer)
    orders.complete_assignment(assignment=a, actor=base_staff_a, minutes=minutes)
    account = ledger_selectors.member_account(volunteer)
    paid = Transfer.objects.filter(credit_account=account, code="service", kind="post")
    assert paid.count() == 1
    dated(paid.values_list("pk", flat=True), when)


@pytest.fixture
def period() -> Period:
    """Last month: a whole month in the past, so that "now" lands after it."""
    first = (timezone.localdate().replace(day=1) - timedelta(days=1)).replace(day=1)
    last = timezone.localdate().replace(day=1) - timedelta(days=1)
    return Period("custom", first, last)


@pytest.fixture
def history(period, volunteer, volunteer2, elder, make_need, base_staff_a):
    """王志愿's lines: 1 h granted long before and 4 h one second before the period (the
    opening: 5 h); a 2 h service at 00:00 of its first day and a 0.5 h gift to 张阿婆 inside;
    3 h granted at 00:00 after its last day (not in it). 李志愿 was granted 11 h inside."""
    start, after = at(period.start), at(period.end + timedelta(days=1))
    grant(volunteer, HOUR, start - timedelta(days=40))
    grant(volunteer, 4 * HOUR, start - timedelta(seconds=1))
    complete_service(make_need, volunteer, base_staff_a, 2 * HOUR, start)
    gift = make_gift(volunteer, elder, 30, approve=True)
    dated([gift.transfer_id, gift.resolution_id], start + timedelta(days=3, hours=10))
    grant(volunteer, 3 * HOUR, after)
    grant(volunteer2, 11 * HOUR, start + timedelta(days=2))
    return volunteer


def print_statement(user, period: Period) -> str:
    account = ledger_selectors.member_account(user)
    return text_of(read(statement_pdf.write_statement_pdf(account, period)))


# --- the statement ----------------------------------------------------------------------------


def test_it_prints_the_hand_counted_balances_and_the_periods_lines(history, period):
    text = print_statement(history, period)
    assert "长宁区养老服务时间银行" in text
    assert "王志愿" in text
    assert "期初余额：5小时" in text  # 1 h + 4 h, the second before 00:00 of the first day
    assert "收到：2小时" in text  # the service at 00:00 of the first day
    assert "用去：0.5小时" in text  # the gift
    assert "期末余额：6.5小时" in text
    assert "服务收入" in text
    assert "赠送给父母张**" in text  # the other member masked, as on /coins/
    assert f"{period.start:%Y-%m-%d}至{period.end:%Y-%m-%d}" in text


def test_lines_outside_the_period_are_left_out(history, period):
    text = print_statement(history, period)
    assert "政府发放" not in text  # both grants lie outside: one second before, 00:00 after
    assert "3小时" not in text
    assert "4小时" not in text


def test_a_line_at_midnight_after_the_last_day_opens_the_next_period(history, period):
    following = Period("custom", period.end + timedelta(days=1), period.end + timedelta(days=1))
    text = print_statement(history, following)
    assert "期初余额：6.5小时" in text
    assert "收到：3小时" in text
    assert "期末余额：9.5小时" in text


def test_no_ledger_words_and_no_other_members_data(history, period):
    text = print_statement(history, period)
    for word in LEDGER_WORDS:
        assert word not in text.lower()
    assert "李志愿" not in text and "11小时" not in text
    assert "张阿婆" not in text  # only 张**


def test_the_id_number_is_masked(history, period):
    member = history.member
    text = print_statement(history, period)
    assert member.id_number_masked and "*" in member.id_number_masked
    assert member.id_number_masked in text


def test_every_font_is_embedded_and_the_page_is_a4_in_large_type(history, period):
    account = ledger_selectors.member_account(history)
    reader = read(statement_pdf.write_statement_pdf(account, period))
    assert_fonts_embedded(reader)
    page = reader.pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)
    sizes = []
    page.extract_text(
        visitor_text=lambda text, cm, tm, font, size: text.strip() and sizes.append(size * tm[0])
    )
    assert sizes and min(sizes) >= 10  # the footer's page number; the body is 14 pt
    assert sorted(sizes)[len(sizes) // 2] >= 14


def test_many_lines_make_several_pages(volunteer, period):
    start = at(period.start, 9)
    for n in range(90):
        grant(volunteer, HOUR, start + timedelta(minutes=n))
    account = ledger_selectors.member_account(volunteer)
    reader = read(statement_pdf.write_statement_pdf(account, period))
    assert len(reader.pages) >= 3
    assert "期末余额：90小时" in text_of(reader)


def test_it_prints_in_english_for_a_member_reading_english(history, period):
    account = ledger_selectors.member_account(history)
    with translation.override("en"):
        text = text_of(read(statement_pdf.write_statement_pdf(account, period)))
    assert "Balanceatthestart:5hours" in text
    assert "Balanceattheend:6.5hours" in text
    assert "Serviceincome" in text


def test_the_lines_are_read_in_a_fixed_number_of_queries(
    volunteer, period, monkeypatch, django_assert_max_num_queries
):
    start = at(period.start, 9)
    for n in range(60):
        grant(volunteer, HOUR, start + timedelta(minutes=n))
    account = ledger_selectors.member_account(volunteer)
    monkeypatch.setattr(statement_pdf, "CHUNK", 40)
    # Two sums, the user and the member, the lines (one cursor read in two chunks; no gift).
    with django_assert_max_num_queries(5):
        pdf = statement_pdf.write_statement_pdf(account, period)
    assert "期末余额：60小时" in text_of(read(pdf))


# --- the page ---------------------------------------------------------------------------------

URL = reverse("reports:statement_pdf")


def dates(period: Period) -> dict:
    return {"when": "custom", "start": period.start.isoformat(), "end": period.end.isoformat()}


def test_the_member_gets_their_own_statement_as_a_pdf(client, history, period):
    client.force_login(history)
    response = client.get(URL, dates(period))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "private, no-store"
    assert "期末余额：6.5小时" in text_of(read(response.content))


def test_another_member_only_ever_gets_their_own(client, history, period, volunteer2):
    client.force_login(volunteer2)
    response = client.get(URL, {**dates(period), "user": history.pk, "account": history.pk})
    text = text_of(read(response.content))
    assert "李志愿" in text and "收到：11小时" in text
    assert "王志愿" not in text and "服务收入" not in text


def test_this_month_needs_no_dates(client, volunteer):
    grant(volunteer, 2 * HOUR, timezone.now())
    client.force_login(volunteer)
    response = client.get(URL, {"when": "this_month"})
    text = text_of(read(response.content))
    assert "收到：2小时" in text and "期末余额：2小时" in text


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(URL, {"when": "this_month"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"when": "custom", "start": "2026-02-30", "end": "2026-03-01"}, "有效的日期"),
        ({"when": "custom", "start": "2026-03-01"}, "请填写开始和结束的日期"),
        ({"when": "custom", "start": "2026-03-02", "end": "2026-03-01"}, "结束日期早于开始日期"),
        ({"when": "custom", "start": "2024-01-01", "end": "2025-06-30"}, "最多只能选一年"),
        ({"when": "someday"}, "选择一个有效的选项"),
    ],
)
def test_a_wrong_period_shows_the_form_with_the_reason(client, volunteer, params, message):
    grant(volunteer, HOUR, timezone.now())
    client.force_login(volunteer)
    response = client.get(URL, params)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert message in page
    assert 'name="start"' in page  # the form to try again


def test_too_many_lines_ask_for_a_shorter_period(client, volunteer, period, monkeypatch):
    for n in range(3):
        grant(volunteer, HOUR, at(period.start, 9, n))
    monkeypatch.setattr(statement_pdf, "MAX_LINES", 2)
    client.force_login(volunteer)
    response = client.get(URL, dates(period))
    assert response["Content-Type"].startswith("text/html")
    assert "这段时间共有3条记录" in response.content.decode()


def test_someone_without_coins_is_told_so(client, outsider):
    client.force_login(outsider)
    response = client.get(URL, {"when": "this_month"})
    assert response.status_code == 200
    assert "还没有时间币" in response.content.decode()


def test_the_coins_page_offers_the_print_choices(client, volunteer):
    grant(volunteer, HOUR, timezone.now())
    client.force_login(volunteer)
    page = client.get(reverse("ledger:my_coins")).content.decode()
    assert "打印对账单" in page
    for when in ("this_month", "last_month", "this_year"):
        assert f'href="{URL}?when={when}"' in page
    assert f'action="{URL}"' in page and 'type="date"' in page
