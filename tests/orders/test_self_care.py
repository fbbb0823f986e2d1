"""A member asks for care for themselves, paid with their own coins (/coins/spend/)."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from ledger import selectors as ledger_selectors
from ledger import services as ledger
from orders import services
from orders.models import ServiceRequest
from orders.services import OrderError
from tests.factories import MemberFactory
from tests.orders.conftest import HOUR, give_coins

pytestmark = pytest.mark.django_db


def earn(member, minutes, *, district):
    """Posted service credits, as completed services leave them."""
    ledger.transfer(
        transfer_id=uuid.uuid4(),
        debit=ledger_selectors.grant_pool(district),
        credit=ledger_selectors.member_account(member.user),
        amount=minutes,
        code="service",
        actor=None,
    )


@pytest.fixture
def veteran(street_a, district):
    """A volunteer of 天山 with 120 hours served: eligible under changning-2019."""
    member = MemberFactory(volunteer=True, street=street_a, user__full_name="赵老师")
    earn(member, 120 * HOUR, district=district)
    return member


def ask(user, category, *, hours=2, **kwargs):
    kwargs.setdefault("address", "天山路 100 号")
    return services.request_care_for_self(
        actor=user,
        category=category,
        starts_at=timezone.now() + timedelta(days=2),
        duration_minutes=hours * HOUR,
        **kwargs,
    )


def test_it_makes_a_draft_for_the_advisors_under_changning(veteran, home_category, advisor_a):
    from orders.selectors import may_edit_draft

    req = ask(veteran.user, home_category)
    assert req.status == ServiceRequest.Status.DRAFT
    assert req.payer_kind == ServiceRequest.Payer.MEMBER
    assert req.recipient == veteran.user == req.posted_by
    assert may_edit_draft(advisor_a, req)
    veteran.refresh_from_db()
    assert veteran.may_receive and veteran.may_provide  # may now receive what they pay for


def test_it_submits_at_once_where_elders_may_post(street_a, home_category, policy_name):
    policy_name("beijing-2022")
    member = MemberFactory(elder=True, street=street_a)
    give_coins(ledger_selectors.member_account(member.user), 5 * HOUR, district=street_a.parent)
    req = ask(member.user, home_category)
    assert req.status == ServiceRequest.Status.SUBMITTED


def test_it_refuses_a_member_not_yet_eligible_and_holds_nothing(street_a, home_category):
    member = MemberFactory(volunteer=True, street=street_a)
    earn(member, 99 * HOUR + 30, district=street_a.parent)
    with pytest.raises(OrderError) as exc:
        ask(member.user, home_category)
    assert "0.5" in str(exc.value)  # what is still missing
    assert not ServiceRequest.objects.exists()
    account = ledger_selectors.member_account(member.user)
    assert account.pending_debits == 0


def test_it_refuses_more_than_the_member_holds_with_the_figures(veteran, home_category):
    with pytest.raises(OrderError) as exc:
        ask(veteran.user, home_category, hours=121)
    assert "120" in str(exc.value) and "121" in str(exc.value)
    assert not ServiceRequest.objects.exists()


def test_exactly_the_balance_is_accepted(veteran, home_category):
    assert ask(veteran.user, home_category, hours=24).duration_minutes == 24 * HOUR


def test_a_double_submit_makes_one_request(veteran, home_category):
    sid = uuid.uuid4()
    first = ask(veteran.user, home_category, submission_id=sid)
    again = ask(veteran.user, home_category, submission_id=sid)
    assert first.pk == again.pk
    assert ServiceRequest.objects.count() == 1


def test_an_elder_spends_granted_coins_at_once(elder, elder_funds, home_category):
    req = ask(elder, home_category)
    assert req.payer_kind == ServiceRequest.Payer.MEMBER


def test_a_past_start_or_a_missing_address_is_refused(veteran, home_category):
    with pytest.raises(OrderError):
        services.request_care_for_self(
            actor=veteran.user,
            category=home_category,
            starts_at=timezone.now() - timedelta(hours=1),
            duration_minutes=HOUR,
            address="x",
        )
    with pytest.raises(OrderError):
        ask(veteran.user, home_category, address="  ")


def test_final_approval_holds_the_coins_and_refuses_when_spent_meanwhile(
    veteran, home_category, advisor_a, staff_a, head_office, district
):
    first = ask(veteran.user, home_category, hours=100)
    second = ask(veteran.user, home_category, hours=30)
    for req in (first, second):
        services.submit_request(service_request=req, actor=advisor_a)
        services.approve_by_street(service_request=req, actor=staff_a)
    services.approve_by_head_office(service_request=first, actor=head_office)
    account = ledger_selectors.member_account(veteran.user)
    assert account.pending_debits == 100 * HOUR
    with pytest.raises(OrderError):
        services.approve_by_head_office(service_request=second, actor=head_office)
    second.refresh_from_db()
    assert second.status == ServiceRequest.Status.STREET_APPROVED
    account.refresh_from_db()
    assert account.pending_debits == 100 * HOUR


def test_a_not_yet_eligible_members_earned_coins_cannot_be_held(
    street_a, home_category, advisor_a, staff_a, head_office
):
    """An advisor's home need paid by a volunteer who may not spend yet is refused at approval."""
    member = MemberFactory(volunteer=True, street=street_a, capacity="both")
    earn(member, 50 * HOUR, district=street_a.parent)
    req = services.post_request(
        actor=advisor_a,
        category=home_category,
        title="陪伴",
        starts_at=timezone.now() + timedelta(days=2),
        duration_minutes=2 * HOUR,
        recipient=member.user,
        address="天山路 1 号",
    )
    services.approve_by_street(service_request=req, actor=staff_a)
    with pytest.raises(OrderError):
        services.approve_by_head_office(service_request=req, actor=head_office)


class TestPage:
    def test_it_shows_the_status_and_the_form(self, client, veteran):
        client.force_login(veteran.user)
        response = client.get("/coins/spend/")
        assert response.status_code == 200
        assert response.context["may_spend"] == 120 * HOUR
        assert response.context["form"] is not None

    def test_a_member_who_may_not_spend_sees_why_and_no_form(self, client, street_a):
        member = MemberFactory(volunteer=True, street=street_a)
        client.force_login(member.user)
        response = client.get("/coins/spend/")
        assert response.context["form"] is None
        assert response.context["eligibility"].minutes_missing == 100 * HOUR

    def test_posting_makes_the_request_once(self, client, veteran, home_category):
        client.force_login(veteran.user)
        day = (timezone.localdate() + timedelta(days=3)).isoformat()
        data = {
            "submission_id": str(uuid.uuid4()),
            "category": home_category.pk,
            "day": day,
            "start": "09:00",
            "units": "2",
            "where": "home",
            "address": "天山路 8 号",
        }
        first = client.post("/coins/spend/", data)
        assert first.status_code == 302
        client.post("/coins/spend/", data)
        assert ServiceRequest.objects.filter(recipient=veteran.user).count() == 1

    def test_bad_hours_and_missing_address_are_form_errors(self, client, veteran, home_category):
        client.force_login(veteran.user)
        data = {
            "category": home_category.pk,
            "day": (timezone.localdate() + timedelta(days=3)).isoformat(),
            "start": "09:00",
            "units": "1.5",
            "where": "home",
            "address": "",
        }
        response = client.post("/coins/spend/", data)
        assert response.status_code == 200
        form = response.context["form"]
        assert "units" in form.errors and "address" in form.errors
        assert not ServiceRequest.objects.exists()

    def test_the_request_may_be_for_a_base(self, client, veteran, category, base_a):
        client.force_login(veteran.user)
        data = {
            "category": category.pk,
            "day": (timezone.localdate() + timedelta(days=3)).isoformat(),
            "start": "09:00",
            "units": "1",
            "where": "base",
            "base": base_a.pk,
        }
        response = client.post("/coins/spend/", data)
        assert response.status_code == 302
        req = ServiceRequest.objects.get()
        assert req.base == base_a and req.address == base_a.address
