"""Certificates (honour.certificates): what each certifies, who may issue and revoke, numbers.

The hours on a proof are checked against the ledger itself: the posted service credits to
the member's account dated in the range, less those reversed."""

# The orders fixtures (a need, its category and its payer) are imported, then named as arguments.
# ruff: noqa: F811

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

import pytest
from django.db.models import Sum
from django.utils import timezone

from honour import certificates
from honour.certificates import CertificateError
from honour.models import AwardRound, Certificate, Nomination
from ledger import selectors as ledger_selectors
from ledger import services as ledger
from ledger.models import Transfer
from ledger.spending import today
from orders import services as orders
from tests.orders.conftest import base_funds, category, make_need  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

HOUR = 60
NUMBER = re.compile(r"^[2-9A-HJKMNP-Z]{4}(-[2-9A-HJKMNP-Z]{4}){3}$")


def credit(user, minutes: int, *, on: date | None, code: str = "service") -> Transfer:
    """A posted credit to the member from the district's grant pool, dated ``on``."""
    return ledger.transfer(
        transfer_id=uuid.uuid4(),
        debit=ledger_selectors.grant_pool(user.member.street.parent),
        credit=ledger_selectors.member_account(user),
        amount=minutes,
        code=code,
        service_date=on if code == "service" else None,
        actor=None,
    )


def serve_hours(user, hours: int) -> None:
    """Hours served without a service date (imported history): they count on posting day."""
    credit(user, hours * HOUR, on=None)


def ledger_minutes(user, start: date, end: date) -> int:
    """The ledger's own answer, written independently of the service under test."""
    credits = Transfer.objects.filter(
        credit_account=ledger_selectors.member_account(user),
        code="service",
        kind__in=["single", "post"],
        service_date__gte=start,
        service_date__lte=end,
        reversals__isnull=True,
    )
    return credits.aggregate(total=Sum("amount"))["total"] or 0


@pytest.fixture
def first_day() -> date:
    return today() - timedelta(days=30)


@pytest.fixture
def history(volunteer, head_office, first_day):
    """Credits on the first and last day (in), the day before and after (out), a reversed
    one inside (out) and a grant inside (not service)."""
    last_day = first_day + timedelta(days=10)
    credit(volunteer, HOUR, on=first_day)
    credit(volunteer, 2 * HOUR, on=last_day)
    credit(volunteer, HOUR, on=last_day + timedelta(days=1))
    credit(volunteer, 2 * HOUR, on=first_day - timedelta(days=1))
    mistake = credit(volunteer, 2 * HOUR, on=first_day + timedelta(days=5))
    ledger.reverse(
        transfer_id=uuid.uuid4(), original_id=mistake.pk, actor=head_office, reason="录错"
    )
    credit(volunteer, 5 * HOUR, on=first_day + timedelta(days=3), code="grant")
    return first_day, last_day


# --- hours ------------------------------------------------------------------------------------


def test_it_certifies_exactly_the_posted_service_credits_of_the_range(volunteer, history):
    start, end = history
    cert = certificates.issue_hours_certificate(
        member=volunteer, start=start, end=end, actor=volunteer
    )
    assert cert.kind == "hours" and (cert.period_start, cert.period_end) == (start, end)
    assert cert.minutes == 3 * HOUR == ledger_minutes(volunteer, start, end)
    assert sum(row["minutes"] for row in cert.breakdown) == cert.minutes


@pytest.mark.parametrize(
    "shift_start,shift_end,expected",
    [
        (0, 0, 3 * HOUR),  # first and last day both included
        (1, 0, 2 * HOUR),  # a day later: the first day's hour falls out
        (0, -1, HOUR),  # a day earlier: the last day's two hours fall out
        (-1, 1, 6 * HOUR),  # a day wider each side: both neighbours come in
    ],
)
def test_its_range_includes_both_ends_and_nothing_beyond(
    volunteer, history, shift_start, shift_end, expected
):
    start, end = history
    start, end = start + timedelta(days=shift_start), end + timedelta(days=shift_end)
    cert = certificates.issue_hours_certificate(
        member=volunteer, start=start, end=end, actor=volunteer
    )
    assert cert.minutes == expected == ledger_minutes(volunteer, start, end)


def test_a_credit_without_a_service_date_counts_on_the_day_it_was_posted(volunteer):
    serve_hours(volunteer, 2)
    day = timezone.localdate()
    cert = certificates.issue_hours_certificate(
        member=volunteer, start=day, end=day, actor=volunteer
    )
    assert cert.minutes == 2 * HOUR
    with pytest.raises(CertificateError):
        yesterday = day - timedelta(days=1)
        certificates.issue_hours_certificate(
            member=volunteer, start=yesterday, end=yesterday, actor=volunteer
        )


def test_it_breaks_the_hours_down_by_category_and_base(
    volunteer, make_need, base_staff_a, category
):
    need = make_need(starts_in=timedelta(minutes=10), auto_confirm=True)
    assignment = orders.grab_place(service_request=need, volunteer=volunteer)
    orders.sign_in(assignment=assignment, actor=volunteer, code=need.checkin_code)
    orders.complete_assignment(assignment=assignment, actor=base_staff_a, minutes=HOUR)
    posted = Transfer.objects.get(pending_id=assignment.reservation_transfer_id, kind="post")
    credit(volunteer, 2 * HOUR, on=posted.service_date - timedelta(days=1))
    start = posted.service_date - timedelta(days=1)
    cert = certificates.issue_hours_certificate(
        member=volunteer, start=start, end=min(posted.service_date, today()), actor=volunteer
    )
    assert cert.breakdown == [
        {"category": "", "base": "", "minutes": 2 * HOUR},
        {"category": "陪伴(机构)", "base": "天山养老院", "minutes": HOUR},
    ]
    assert cert.minutes == 3 * HOUR == sum(row["minutes"] for row in cert.breakdown)


@pytest.mark.parametrize(
    "start,end,code",
    [
        (date(2024, 3, 2), date(2024, 3, 1), "order"),
        (today(), today() + timedelta(days=1), "future"),
        (today() - timedelta(days=366 * 10 + 1), today(), "too_long"),
        (today() - timedelta(days=5), today(), "no_hours"),
    ],
)
def test_it_refuses_a_period_it_cannot_certify(volunteer, start, end, code):
    with pytest.raises(CertificateError) as refused:
        certificates.issue_hours_certificate(
            member=volunteer, start=start, end=end, actor=volunteer
        )
    assert refused.value.code == code
    assert not Certificate.objects.exists()


def test_ten_years_exactly_is_allowed(volunteer):
    serve_hours(volunteer, 1)
    end = today()
    cert = certificates.issue_hours_certificate(
        member=volunteer, start=end - timedelta(days=366 * 10), end=end, actor=volunteer
    )
    assert cert.minutes == HOUR


# --- levels -----------------------------------------------------------------------------------


def test_a_level_certificate_states_the_level_reached_now(volunteer):
    serve_hours(volunteer, 99)
    with pytest.raises(CertificateError) as refused:
        certificates.issue_level_certificate(member=volunteer, actor=volunteer)
    assert refused.value.code == "no_level"
    serve_hours(volunteer, 1)
    cert = certificates.issue_level_certificate(member=volunteer, actor=volunteer)
    assert (cert.kind, cert.level, cert.minutes) == ("level", 1, 100 * HOUR)
    assert cert.street == volunteer.member.street and cert.issued_by == volunteer


def test_grants_do_not_make_a_level(volunteer):
    credit(volunteer, 200 * HOUR, on=None, code="grant")
    with pytest.raises(CertificateError):
        certificates.issue_level_certificate(member=volunteer, actor=volunteer)


# --- who may issue ----------------------------------------------------------------------------


@pytest.mark.parametrize("actor", ["volunteer", "staff_a", "advisor_a", "head_office"])
def test_the_member_their_street_and_head_office_may_issue(request, volunteer, actor):
    serve_hours(volunteer, 100)
    issuer = request.getfixturevalue(actor)
    cert = certificates.issue_level_certificate(member=volunteer, actor=issuer)
    assert cert.issued_by == issuer
    assert cert.history.count() == 1  # kept with who issued it


@pytest.mark.parametrize("actor", ["volunteer2", "staff_b", "official", "outsider"])
def test_nobody_else_may_issue(request, volunteer, actor):
    serve_hours(volunteer, 100)
    with pytest.raises(CertificateError) as refused:
        certificates.issue_level_certificate(member=volunteer, actor=request.getfixturevalue(actor))
    assert refused.value.code == "forbidden"
    assert not Certificate.objects.exists()


def test_only_members_receive_certificates(outsider, head_office):
    with pytest.raises(CertificateError):
        certificates.issue_level_certificate(member=outsider, actor=head_office)


# --- numbers ----------------------------------------------------------------------------------


def test_numbers_are_unique_random_and_readable(volunteer):
    serve_hours(volunteer, 100)
    numbers = [
        certificates.issue_level_certificate(member=volunteer, actor=volunteer).number
        for _ in range(20)
    ]
    assert len(set(numbers)) == 20
    assert all(NUMBER.match(number) for number in numbers)
    for before, after in zip(numbers, numbers[1:], strict=False):
        differing = sum(a != b for a, b in zip(before, after, strict=True))
        assert differing >= 6, (before, after)  # not a counter: nothing to guess from


def test_a_number_that_clashes_is_drawn_again(volunteer, monkeypatch):
    serve_hours(volunteer, 100)
    taken = certificates.issue_level_certificate(member=volunteer, actor=volunteer).number
    draws = iter([taken, "ABCD-EFGH-JKMN-PQRS"])
    monkeypatch.setattr(certificates, "new_number", lambda: next(draws))
    cert = certificates.issue_level_certificate(member=volunteer, actor=volunteer)
    assert cert.number == "ABCD-EFGH-JKMN-PQRS"


@pytest.mark.parametrize(
    "typed,expected",
    [
        ("abcd-efgh-jkmn-pqrs", "ABCD-EFGH-JKMN-PQRS"),
        ("ABCDEFGHJKMNPQRS", "ABCD-EFGH-JKMN-PQRS"),
        ("ABCD EFGH JKMN PQRS", "ABCD-EFGH-JKMN-PQRS"),
        ("ABCD-EFGH-JKMN-PQR0", None),  # 0 is not in the alphabet
        ("ABCD-EFGH-JKMN", None),
        ("", None),
    ],
)
def test_it_reads_a_number_as_people_type_it(typed, expected):
    assert certificates.normalise_number(typed) == expected


# --- revoking ---------------------------------------------------------------------------------


@pytest.fixture
def level_certificate(volunteer):
    serve_hours(volunteer, 100)
    return certificates.issue_level_certificate(member=volunteer, actor=volunteer)


def test_head_office_revokes_with_a_reason(level_certificate, head_office):
    cert = certificates.revoke(certificate=level_certificate, actor=head_office, reason="信息有误")
    cert.refresh_from_db()
    assert cert.revoked_at is not None and not cert.is_valid
    assert (cert.revoked_by, cert.revoke_reason) == (head_office, "信息有误")
    with pytest.raises(CertificateError) as again:
        certificates.revoke(certificate=cert, actor=head_office, reason="再次")
    assert again.value.code == "revoked"


@pytest.mark.parametrize("actor", ["staff_a", "official", "volunteer"])
def test_only_head_office_revokes(request, level_certificate, actor):
    with pytest.raises(CertificateError) as refused:
        certificates.revoke(
            certificate=level_certificate, actor=request.getfixturevalue(actor), reason="x"
        )
    assert refused.value.code == "forbidden"
    level_certificate.refresh_from_db()
    assert level_certificate.is_valid


def test_head_office_of_another_district_cannot_revoke(level_certificate, city):
    from tests.conftest import _staff
    from tests.factories import BranchFactory

    other = BranchFactory(name="静安区", code="jingan", kind="district", parent=city)
    with pytest.raises(CertificateError):
        certificates.revoke(
            certificate=level_certificate,
            actor=_staff("head_office", other, name="静安"),
            reason="x",
        )


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_revocation_needs_a_reason(level_certificate, head_office, reason):
    with pytest.raises(CertificateError) as refused:
        certificates.revoke(certificate=level_certificate, actor=head_office, reason=reason)
    assert refused.value.code == "reason_required"


def test_a_member_lists_their_own_certificates_newest_first(volunteer, volunteer2):
    serve_hours(volunteer, 100)
    serve_hours(volunteer2, 100)
    first = certificates.issue_level_certificate(member=volunteer, actor=volunteer)
    second = certificates.issue_level_certificate(member=volunteer, actor=volunteer)
    certificates.issue_level_certificate(member=volunteer2, actor=volunteer2)
    assert list(certificates.certificates_of(volunteer)) == [second, first]


# --- awards -----------------------------------------------------------------------------------


@pytest.fixture
def award_round(district, head_office):
    return AwardRound.objects.create(
        district=district, year=2025, kind=AwardRound.Kind.STAR_VOLUNTEER, created_by=head_office
    )


def nominate(award_round, *, street, by, status="awarded", **who) -> Nomination:
    return Nomination.objects.create(
        round=award_round, street=street, reason="热心服务", nominated_by=by, status=status, **who
    )


def test_an_award_gets_one_certificate(award_round, volunteer, street_a, staff_a, head_office):
    nomination = nominate(award_round, street=street_a, by=staff_a, member=volunteer)
    cert = certificates.issue_award_certificate(nomination=nomination, actor=head_office)
    assert (cert.kind, cert.member, cert.street, cert.nomination) == (
        "award",
        volunteer,
        street_a,
        nomination,
    )
    again = certificates.issue_award_certificate(nomination=nomination, actor=head_office)
    assert again == cert and Certificate.objects.count() == 1


def test_an_organisation_award_names_the_base_and_its_street(
    award_round, base_b, staff_b, head_office
):
    nomination = nominate(award_round, street=base_b.street, by=staff_b, base=base_b)
    cert = certificates.issue_award_certificate(nomination=nomination, actor=head_office)
    assert cert.member is None and cert.street == base_b.street


def test_only_a_decided_award_by_head_office_gets_a_certificate(
    award_round, volunteer, street_a, staff_a, head_office
):
    nominated = nominate(
        award_round, street=street_a, by=staff_a, member=volunteer, status="nominated"
    )
    with pytest.raises(CertificateError):
        certificates.issue_award_certificate(nomination=nominated, actor=head_office)
    nominated.status = "awarded"
    nominated.save()
    with pytest.raises(CertificateError):
        certificates.issue_award_certificate(nomination=nominated, actor=staff_a)
    assert not Certificate.objects.exists()
