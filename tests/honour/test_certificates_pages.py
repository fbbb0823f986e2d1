"""Certificate pages: a member asks for their own, street staff print for a member without a
phone (their street only), anyone checks a number, head office prints a street's batch; and
the admin list, scoped, with head office's revocation."""

from __future__ import annotations

import io
from datetime import timedelta
from urllib.parse import quote

import hypothesis
import pytest
from django.test import RequestFactory
from django.urls import reverse
from hypothesis import strategies as st
from pypdf import PdfReader

from honour import certificate_pdf, certificates
from honour.models import Certificate, CertificateBatch
from ledger.spending import today
from tests.honour.test_certificates import HOUR, credit, serve_hours
from tests.hostile import HOSTILE, snapshot

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture(autouse=True)
def no_verify_limit(settings):
    settings.CERTIFICATE_VERIFY_RATE = ""  # the rate limit has its own test


def pdf_text(response) -> str:
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    return "".join("".join(page.extract_text().split()) for page in reader.pages)


@pytest.fixture
def certificate(volunteer):
    serve_hours(volunteer, 100)
    return certificates.issue_level_certificate(member=volunteer, actor=volunteer)


# --- the member's own -------------------------------------------------------------------------


def test_a_member_downloads_their_own_certificate(client, certificate, volunteer):
    client.force_login(volunteer)
    response = client.get(reverse("honour:certificate_pdf", args=[certificate.pk]))
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    assert "Content-Security-Policy" not in response  # Chrome's viewer is an <embed>
    text = pdf_text(response)
    assert "王志愿" in text and certificate.number in text
    assert f"http://testserver/verify/{certificate.number}/" in text


@pytest.mark.parametrize(
    "viewer,status",
    [
        ("staff_a", 200),
        ("advisor_a", 200),
        ("head_office", 200),
        ("official", 200),
        ("staff_b", 404),
        ("volunteer2", 404),
        ("outsider", 404),
    ],
)
def test_others_see_a_certificate_only_within_their_streets(
    request, client, certificate, viewer, status
):
    client.force_login(request.getfixturevalue(viewer))
    assert (
        client.get(reverse("honour:certificate_pdf", args=[certificate.pk])).status_code == status
    )


def test_a_visitor_is_asked_to_log_in(client, certificate):
    response = client.get(reverse("honour:certificate_pdf", args=[certificate.pk]))
    assert response.status_code == 302 and "/auth/login/" in response["Location"]


def test_a_member_asks_for_a_proof_of_hours(client, volunteer):
    start = today() - timedelta(days=10)
    credit(volunteer, 90, on=start)
    client.force_login(volunteer)
    page = client.get(reverse("honour:issue"))
    assert page.status_code == 200
    assert "申请证书" in page.content.decode()
    response = client.post(
        reverse("honour:issue"), {"kind": "hours", "start": start, "end": today()}
    )
    cert = Certificate.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("honour:certificate_pdf", args=[cert.pk])
    assert (cert.minutes, cert.issued_by, cert.member) == (90, volunteer, volunteer)
    listed = client.get(reverse("honour:issue")).content.decode()
    assert cert.number in listed and "志愿服务时长证明" in listed


@pytest.mark.parametrize(
    "data,message",
    [
        (
            {"kind": "hours", "start": "2024-03-02", "end": "2024-03-01"},
            "开始日期不能晚于结束日期。",
        ),
        (
            {"kind": "hours", "start": str(today()), "end": str(today() + timedelta(days=1))},
            "结束日期不能晚于今天。",
        ),
        ({"kind": "hours", "start": "2000-01-01", "end": str(today())}, "一份证明最多涵盖10年。"),
        (
            {"kind": "hours", "start": str(today() - timedelta(days=3)), "end": str(today())},
            "期间没有志愿服务记录。",
        ),
        ({"kind": "hours", "start": "", "end": ""}, "请填写开始和结束日期。"),
        ({"kind": "level"}, "暂无可证明的荣誉等级"),
    ],
)
def test_it_says_plainly_why_it_cannot_certify(client, volunteer, data, message):
    client.force_login(volunteer)
    response = client.post(reverse("honour:issue"), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Certificate.objects.exists()


def test_a_user_without_membership_is_sent_to_register(client, outsider):
    client.force_login(outsider)
    assert client.get(reverse("honour:issue"))["Location"] == reverse("accounts:profile")


def test_the_members_page_costs_a_fixed_number_of_queries(
    client, volunteer, django_assert_max_num_queries
):
    serve_hours(volunteer, 100)
    for _ in range(5):
        certificates.issue_level_certificate(member=volunteer, actor=volunteer)
    client.force_login(volunteer)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("honour:issue")).status_code == 200


# --- staff printing for a member without a phone ----------------------------------------------


def test_street_staff_find_a_member_of_their_street_by_name_or_phone(client, staff_a, elder):
    client.force_login(staff_a)
    by_name = client.get(reverse("honour:print"), {"q": "张阿"})
    assert "张阿婆" in by_name.content.decode()
    by_phone = client.get(reverse("honour:print"), {"q": elder.phone.as_national})
    assert "张阿婆" in by_phone.content.decode()


def test_staff_of_another_street_cannot_find_or_print_for_them(client, staff_b, volunteer):
    serve_hours(volunteer, 100)
    client.force_login(staff_b)
    found = client.get(reverse("honour:print"), {"q": "王志愿"}).content.decode()
    assert 'data-testid="found-member"' not in found
    assert "本街道没有这个姓名或手机号的会员。" in found
    chosen = client.get(reverse("honour:print"), {"member": volunteer.member.pk}).content.decode()
    assert "王志愿" not in chosen
    response = client.post(
        reverse("honour:print"), {"member": volunteer.member.pk, "kind": "level"}
    )
    assert response.status_code == 200
    assert not Certificate.objects.exists()


def test_street_staff_print_a_certificate_issued_in_their_name(client, staff_a, volunteer):
    serve_hours(volunteer, 100)
    client.force_login(staff_a)
    page = client.get(reverse("honour:print"), {"member": volunteer.member.pk})
    assert "为王志愿开具证书" in page.content.decode()
    response = client.post(
        reverse("honour:print"), {"member": volunteer.member.pk, "kind": "level"}
    )
    cert = Certificate.objects.get()
    assert response["Location"] == reverse("honour:certificate_pdf", args=[cert.pk])
    assert (cert.member, cert.issued_by) == (volunteer, staff_a)
    assert cert.history.get().history_user == staff_a
    assert "王志愿" in pdf_text(client.get(response["Location"]))


@pytest.mark.parametrize("who", ["volunteer", "official", "base_staff_a"])
def test_the_print_page_is_for_street_staff_and_head_office(request, client, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("honour:print")).status_code == 404


# --- anyone checks a number -------------------------------------------------------------------


def test_anyone_checks_a_valid_certificate_and_sees_a_masked_name(client, certificate):
    response = client.get(reverse("verify", args=[certificate.number]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "有效" in page and "已撤销" not in page
    assert "王**" in page and "王志愿" not in page
    assert "荣誉等级证书" in page and "一星" in page
    assert response["Cache-Control"].startswith("max-age=0")


def test_a_revoked_certificate_shows_as_revoked_with_its_date_but_not_why(
    client, certificate, head_office
):
    certificates.revoke(certificate=certificate, actor=head_office, reason="冒名顶替")
    certificate.refresh_from_db()
    page = client.get(reverse("verify", args=[certificate.number])).content.decode()
    assert "已撤销" in page and "有效" not in page
    day = certificate.revoked_at.astimezone(certificates.ZoneInfo("Asia/Shanghai")).date()
    assert f"已于{day.year}年{day.month}月{day.day}日撤销" in page
    assert "冒名顶替" not in page


def test_a_number_typed_loosely_still_checks(client, certificate):
    typed = certificate.number.replace("-", "").lower()
    assert client.get(reverse("verify", args=[typed])).status_code == 200


@pytest.mark.parametrize("number", ["ABCD-EFGH-JKMN-PQRS", "nonsense", "x" * 500])
def test_an_unknown_number_answers_404_in_chinese(client, number):
    response = client.get(reverse("verify", args=[number]))
    assert response.status_code == 404
    assert "没有这个编号的证书" in response.content.decode()


def test_an_address_that_checks_too_often_is_slowed_down(client, certificate, settings):
    from allauth.core.internal import ratelimit

    settings.CERTIFICATE_VERIFY_RATE = "3/m/ip"
    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1")
    clear = {"app": "honour", "action": "verify", "config": {"verify": "3/m/ip"}}
    ratelimit.clear(request, **clear)
    try:
        url = reverse("verify", args=[certificate.number])
        assert [client.get(url).status_code for _ in range(4)] == [200, 200, 200, 429]
        assert "查验过于频繁" in client.get(url).content.decode()
    finally:
        ratelimit.clear(request, **clear)


# --- batches ----------------------------------------------------------------------------------


@pytest.fixture
def eager(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True


@pytest.fixture
def street_a_levels(volunteer, volunteer2, elder):
    """Two members of 天山 with a level (one and two stars) and one without."""
    serve_hours(volunteer, 100)
    serve_hours(volunteer2, 300)


def start_batch(client, street, **data):
    return client.post(
        reverse("admin:honour_certificatebatch_add"),
        {"street": street.pk, "kind": "level", "min_level": "1", **data},
    )


def test_head_office_prints_a_streets_batch_as_one_pdf(
    client, head_office, street_a, street_a_levels, eager, django_capture_on_commit_callbacks
):
    client.force_login(head_office)
    with django_capture_on_commit_callbacks(execute=True):
        response = start_batch(client, street_a)
    batch = CertificateBatch.objects.get()
    assert response["Location"] == reverse("honour:batch", args=[batch.pk])
    assert (batch.status, batch.total, batch.done) == ("done", 2, 2)
    assert batch.certificates.count() == 2 and batch.finished_at is not None
    page = client.get(response["Location"]).content.decode()
    assert "已打印 2 / 2 页" in page and "hx-trigger" not in page
    assert reverse("honour:batch_file", args=[batch.pk]) in page
    download = client.get(reverse("honour:batch_file", args=[batch.pk]))
    reader = PdfReader(io.BytesIO(b"".join(download.streaming_content)))
    assert len(reader.pages) == 2
    assert {"一星", "二星"} <= {
        level for p in reader.pages for level in ("一星", "二星") if level in p.extract_text()
    }


def test_a_higher_level_batch_leaves_the_others_out(
    client, head_office, street_a, street_a_levels, eager, django_capture_on_commit_callbacks
):
    client.force_login(head_office)
    with django_capture_on_commit_callbacks(execute=True):
        start_batch(client, street_a, min_level="2")
    batch = CertificateBatch.objects.get()
    assert [c.member.full_name for c in batch.certificates.all()] == ["李志愿"]


def test_the_task_shows_its_progress_as_it_prints(
    head_office, street_a, street_a_levels, monkeypatch
):
    batch = certificates.start_batch(
        street=street_a, kind="level", actor=head_office, site_url="http://testserver/"
    )
    assert (batch.status, batch.done) == ("queued", 0)
    monkeypatch.setattr(certificate_pdf, "PAGES_PER_RENDER", 1)
    seen, render = [], certificate_pdf._render

    def watched(chunk, site_url):
        row = CertificateBatch.objects.get(pk=batch.pk)
        seen.append((row.status, row.done))
        return render(chunk, site_url)

    monkeypatch.setattr(certificate_pdf, "_render", watched)
    assert certificates.print_batch(batch_id=batch.pk, site_url="http://testserver/") == "printed"
    assert seen == [("running", 0), ("running", 1)]
    batch.refresh_from_db()
    assert (batch.status, batch.done, batch.total) == ("done", 2, 2)
    assert certificates.print_batch(batch_id=batch.pk, site_url="x") == "already printed"


def test_a_batch_still_printing_polls_and_offers_no_file(
    client, head_office, street_a, street_a_levels
):
    batch = certificates.start_batch(
        street=street_a, kind="level", actor=head_office, site_url="http://testserver/"
    )
    client.force_login(head_office)
    page = client.get(reverse("honour:batch", args=[batch.pk])).content.decode()
    assert 'hx-trigger="every 3s"' in page and "刷新" in page
    assert "已打印 0 / 2 页" in page
    assert client.get(reverse("honour:batch_file", args=[batch.pk])).status_code == 404


def test_a_failed_print_says_so(head_office, street_a, street_a_levels, monkeypatch):
    batch = certificates.start_batch(
        street=street_a, kind="level", actor=head_office, site_url="http://testserver/"
    )

    def broken(chunk, site_url):
        raise RuntimeError("out of paper")

    monkeypatch.setattr(certificate_pdf, "_render", broken)
    with pytest.raises(RuntimeError):
        certificates.print_batch(batch_id=batch.pk, site_url="http://testserver/")
    batch.refresh_from_db()
    assert (batch.status, batch.error) == ("failed", "打印失败，请重试。")


@pytest.mark.parametrize("who", ["staff_a", "official", "volunteer"])
def test_only_head_office_sees_a_batch(
    request, client, head_office, street_a, street_a_levels, who
):
    batch = certificates.start_batch(
        street=street_a, kind="level", actor=head_office, site_url="http://testserver/"
    )
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("honour:batch", args=[batch.pk])).status_code == 404
    assert client.get(reverse("honour:batch_file", args=[batch.pk])).status_code == 404


@pytest.mark.parametrize("who", ["staff_a", "official"])
def test_only_head_office_starts_a_batch(request, client, street_a, street_a_levels, who):
    client.force_login(request.getfixturevalue(who))
    response = start_batch(client, street_a)
    assert response.status_code in (302, 403)
    assert not CertificateBatch.objects.exists() and not Certificate.objects.exists()


def test_head_office_of_another_district_cannot_print_here(street_a, street_a_levels, city):
    from tests.conftest import _staff
    from tests.factories import BranchFactory

    other = BranchFactory(name="静安区", code="jingan", kind="district", parent=city)
    with pytest.raises(certificates.CertificateError):
        certificates.start_batch(
            street=street_a,
            kind="level",
            actor=_staff("head_office", other, name="静安总行"),
            site_url="http://testserver/",
        )
    assert not CertificateBatch.objects.exists()


def test_an_empty_batch_is_refused_in_words(client, head_office, street_b):
    client.force_login(head_office)
    response = start_batch(client, street_b)
    assert response.status_code == 200
    assert "该街道没有符合条件的证书可打印。" in response.content.decode()


def test_a_rounds_award_batch(
    client, head_office, street_a, staff_a, volunteer, eager, django_capture_on_commit_callbacks
):
    from honour.models import AwardRound
    from tests.honour.test_certificates import nominate

    award_round = AwardRound.objects.create(
        district=street_a.parent, year=2025, kind="star_volunteer", created_by=head_office
    )
    nomination = nominate(award_round, street=street_a, by=staff_a, member=volunteer)
    issued = certificates.issue_award_certificate(nomination=nomination, actor=head_office)
    client.force_login(head_office)
    with django_capture_on_commit_callbacks(execute=True):
        start_batch(client, street_a, kind="award", award_round=award_round.pk)
    batch = CertificateBatch.objects.get()
    assert list(batch.certificates.all()) == [issued]  # the award's own certificate, once
    assert batch.status == "done"


# --- admin ------------------------------------------------------------------------------------


@pytest.fixture
def two_streets(volunteer, street_b):
    from tests.factories import MemberFactory

    serve_hours(volunteer, 100)
    other = MemberFactory(volunteer=True, street=street_b, user__full_name="赵志愿").user
    serve_hours(other, 100)
    return (
        certificates.issue_level_certificate(member=volunteer, actor=volunteer),
        certificates.issue_level_certificate(member=other, actor=other),
    )


def test_street_staff_list_their_streets_certificates_names_masked(client, staff_a, two_streets):
    mine, theirs = two_streets
    client.force_login(staff_a)
    page = client.get(reverse("admin:honour_certificate_changelist")).content.decode()
    assert mine.number in page and theirs.number not in page
    assert "王**" in page and "王志愿" not in page
    assert "撤销（需填写原因）" not in page  # revoking is head office's


def test_head_office_lists_the_districts_certificates(
    client, head_office, two_streets, django_assert_max_num_queries
):
    client.force_login(head_office)
    with django_assert_max_num_queries(20):
        page = client.get(reverse("admin:honour_certificate_changelist")).content.decode()
    assert all(cert.number in page for cert in two_streets)


def test_head_office_revokes_from_the_list_with_a_reason(client, head_office, two_streets):
    mine, _theirs = two_streets
    client.force_login(head_office)
    url = reverse("admin:honour_certificate_changelist")
    ask = client.post(url, {"action": "revoke_certificates", "_selected_action": [mine.pk]})
    assert "撤销证书" in ask.content.decode()
    done = client.post(
        url,
        {
            "action": "revoke_certificates",
            "_selected_action": [mine.pk],
            "apply": "1",
            "reason": "信息有误",
        },
    )
    assert done.status_code == 302
    mine.refresh_from_db()
    assert (mine.revoke_reason, mine.revoked_by) == ("信息有误", head_office)


def test_street_staff_cannot_revoke(client, staff_a, two_streets):
    mine, _theirs = two_streets
    client.force_login(staff_a)
    client.post(
        reverse("admin:honour_certificate_changelist"),
        {
            "action": "revoke_certificates",
            "_selected_action": [mine.pk],
            "apply": "1",
            "reason": "x",
        },
    )
    mine.refresh_from_db()
    assert mine.is_valid


def test_no_one_edits_a_certificate_in_admin(client, head_office, two_streets):
    mine, _theirs = two_streets
    client.force_login(head_office)
    url = reverse("admin:honour_certificate_change", args=[mine.pk])
    client.post(url, {"number": "AAAA-AAAA-AAAA-AAAA", "minutes": "999999"})
    mine.refresh_from_db()
    assert mine.number != "AAAA-AAAA-AAAA-AAAA" and mine.minutes == 100 * HOUR


@hypothesis.settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture],
)
@hypothesis.given(number=st.one_of(st.sampled_from(HOSTILE), st.text(max_size=60)))
def test_any_number_answers_below_500_and_changes_nothing(client, certificate, number):
    before = snapshot()
    response = client.get("/verify/" + quote(number, safe="") + "/")
    assert response.status_code in (200, 400, 404), number
    assert snapshot() == before


def test_print_keeps_the_member_while_the_dates_are_fixed(client, staff_a, volunteer):
    client.force_login(staff_a)
    response = client.post(
        reverse("honour:print"), {"member": volunteer.member.pk, "kind": "hours", "start": ""}
    )
    page = response.content.decode()
    assert "为王志愿开具证书" in page and "请填写开始和结束日期。" in page
    assert not Certificate.objects.exists()


def test_head_office_opens_the_batch_form(client, head_office, street_a):
    client.force_login(head_office)
    page = client.get(reverse("admin:honour_certificatebatch_add")).content.decode()
    assert "批量打印街道证书" in page and "天山" in page


def test_the_pages_hold_no_inline_code(client, certificate, volunteer, staff_a, head_office):
    from tests.test_deploy import inline_code

    batch_street = volunteer.member.street
    batch = certificates.start_batch(
        street=batch_street, kind="level", actor=head_office, site_url="http://testserver/"
    )
    pages = [
        (None, reverse("verify", args=[certificate.number])),
        (None, reverse("verify", args=["nonsense"])),
        (volunteer, reverse("honour:issue")),
        (staff_a, reverse("honour:print") + "?q=王&member=" + str(volunteer.member.pk)),
        (head_office, reverse("honour:batch", args=[batch.pk])),
        (head_office, reverse("admin:honour_certificate_changelist")),
        (head_office, reverse("admin:honour_certificate_change", args=[certificate.pk])),
        (head_office, reverse("admin:honour_certificatebatch_changelist")),
        (head_office, reverse("admin:honour_certificatebatch_add")),
    ]
    for user, url in pages:
        client.logout()
        if user:
            client.force_login(user)
        response = client.get(url)
        assert response.status_code in (200, 404), url
        assert inline_code(response.content.decode()) == [], url


def test_head_office_prints_a_failed_batch_again(
    client, head_office, street_a, street_a_levels, eager, django_capture_on_commit_callbacks
):
    batch = certificates.start_batch(
        street=street_a, kind="level", actor=head_office, site_url="http://testserver/"
    )
    CertificateBatch.objects.filter(pk=batch.pk).update(status="failed", error="x")
    client.force_login(head_office)
    url = reverse("admin:honour_certificatebatch_changelist")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"action": "print_again", "_selected_action": [batch.pk]})
    batch.refresh_from_db()
    assert (batch.status, batch.done, batch.error) == ("done", 2, "")
    with pytest.raises(certificates.CertificateError):  # printed: nothing to print again
        certificates.reprint_batch(batch=batch, actor=head_office, site_url="x")
