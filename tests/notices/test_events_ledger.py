"""The ledger's messages (issue 15): grants, gifts, donations and a failed audit, each through
the real service, to the right people, with its words and link, and once only."""

import uuid

import pytest
from django.db import connection
from django.urls import reverse

from ledger import donations, gifts, grants, selectors, services
from ledger.audit import run_audit
from ledger.models import Gift
from notices.models import Notification
from tests.factories import BranchFactory, MemberFactory, RelativeFactory, StaffRoleFactory

pytestmark = pytest.mark.django_db
HOUR = 60


def notes(event):
    return list(Notification.objects.filter(event=event).order_by("recipient_id"))


def earn(district, user, minutes):
    """Coins earned by serving: these may be given and donated on."""
    return services.transfer(
        transfer_id=uuid.uuid4(),
        debit=selectors.grant_pool(district),
        credit=selectors.member_account(user),
        amount=minutes,
        code="service",
        actor=None,
    )


def id_number_of(user) -> str:
    from accounts.idnumbers import decrypt

    return decrypt(user.member.id_number_encrypted)


# --- grants ----------------------------------------------------------------------------------


def test_it_tells_the_elder_of_a_grant_once(district, elder, head_office):
    grant = {
        "transfer_id": uuid.uuid4(),
        "district": district,
        "to": selectors.member_account(elder),
        "amount": 90,
        "actor": head_office,
        "reason": "高龄独居补贴",
    }
    transfer = services.grant(**grant)
    services.grant(**grant)  # a double submit: the same transfer, no second message

    (note,) = notes("coins_grant")
    assert note.recipient == elder
    assert note.key == f"transfer:{transfer.pk}"
    assert note.params == {"coins": "1.5", "reason": "高龄独居补贴"}
    assert note.url == reverse("ledger:my_coins")
    assert not note.urgent


def test_it_tells_no_member_of_a_grant_to_a_base(district, base_a, head_office):
    services.grant(
        transfer_id=uuid.uuid4(),
        district=district,
        to=selectors.base_account(base_a),
        amount=5 * HOUR,
        actor=head_office,
        reason="基地运营补贴",
    )
    assert notes("coins_grant") == []


def test_it_tells_each_elder_of_a_bulk_grant_once(street_a, district, elder, head_office):
    other = MemberFactory(elder=True, street=street_a, user__full_name="李阿公").user
    rows = grants.parse_csv(
        f"身份证号,小时\n{id_number_of(elder)},2\n{id_number_of(other)},12.5\n".encode()
    )
    batch_id = uuid.uuid4()
    done = grants.bulk_grant(
        batch_id=batch_id, district=district, rows=rows, actor=head_office, reason="重阳节慰问"
    )
    grants.bulk_grant(  # the same file sent twice
        batch_id=batch_id, district=district, rows=rows, actor=head_office, reason="重阳节慰问"
    )

    told = {n.recipient_id: n for n in notes("coins_grant")}
    assert set(told) == {elder.pk, other.pk}
    assert told[elder.pk].params == {"coins": "2", "reason": "重阳节慰问"}
    assert told[other.pk].params == {"coins": "12.5", "reason": "重阳节慰问"}
    assert {n.key for n in told.values()} == {f"transfer:{t.pk}" for t in done}


# --- gifts -----------------------------------------------------------------------------------


@pytest.fixture
def parent(volunteer, elder, district):
    """The elder, confirmed as the volunteer's parent; the volunteer has 5 earned coins."""
    earn(district, volunteer, 5 * HOUR)
    return RelativeFactory(member=volunteer.member, relative=elder, relation="parent")


def give(volunteer, relative, amount, gift_id=None):
    return gifts.give_coins(
        gift_id=gift_id or uuid.uuid4(),
        giver=volunteer,
        relative=relative,
        amount=amount,
        actor=volunteer,
    )


def test_it_tells_the_receiver_of_a_gift_made_at_once(policy_name, volunteer, elder, parent):
    policy_name("beijing-2022")  # gifts need no approval
    gift_id = uuid.uuid4()
    gift = give(volunteer, parent, 2 * HOUR, gift_id)
    give(volunteer, parent, 2 * HOUR, gift_id)  # a double submit

    assert gift.status == Gift.Status.POSTED
    (note,) = notes("coins_gift")
    assert note.recipient == elder
    assert note.key == f"gift:{gift.pk}"
    assert note.params == {"giver": volunteer.full_name, "coins": "2"}
    assert note.url == reverse("ledger:my_coins")
    assert notes("gift_approved") == []


def test_it_tells_the_receiver_and_the_giver_when_a_gift_is_approved(
    volunteer, elder, parent, staff_a
):
    gift = give(volunteer, parent, 2 * HOUR)
    assert gift.status == Gift.Status.PENDING
    assert notes("coins_gift") == []  # held: nothing is the elder's yet

    gifts.approve_gift(gift=gift, actor=staff_a)

    (received,) = notes("coins_gift")
    assert (received.recipient, received.key) == (elder, f"gift:{gift.pk}")
    assert received.params == {"giver": volunteer.full_name, "coins": "2"}
    (approved,) = notes("gift_approved")
    assert (approved.recipient, approved.key) == (volunteer, f"gift:{gift.pk}")
    assert approved.params == {"coins": "2", "receiver": elder.full_name}
    assert approved.url == reverse("ledger:my_coins")


def test_it_tells_the_giver_why_a_gift_was_rejected(volunteer, elder, parent, staff_a):
    gift = give(volunteer, parent, HOUR)
    gifts.reject_gift(gift=gift, actor=staff_a, reason="亲属关系待核实")
    with pytest.raises(services.LedgerError):
        gifts.reject_gift(gift=gift, actor=staff_a, reason="亲属关系待核实")

    (note,) = notes("gift_rejected")
    assert (note.recipient, note.key) == (volunteer, f"gift:{gift.pk}")
    assert note.params == {"coins": "1", "receiver": elder.full_name, "reason": "亲属关系待核实"}
    assert note.url == reverse("ledger:my_coins")
    assert notes("coins_gift") == [] and notes("gift_approved") == []


# --- donations -------------------------------------------------------------------------------


@pytest.fixture
def needy(elder):
    type(elder.member).objects.filter(user=elder).update(in_hardship=True, hardship_note="独居")
    return elder


def test_it_tells_the_elder_of_donated_coins_allocated_once(
    policy_name, volunteer, needy, district, head_office
):
    policy_name("beijing-2022")
    earn(district, volunteer, 3 * HOUR)
    donations.donate(
        donation_id=uuid.uuid4(), donor=volunteer, target="pool", amount=3 * HOUR, actor=volunteer
    )
    assert notes("coins_donation") == []  # into the pool: no member has them yet

    allocation = {
        "allocation_id": uuid.uuid4(),
        "district": district,
        "elder": needy,
        "amount": 2 * HOUR,
        "actor": head_office,
        "reason": "冬季送温暖",
    }
    transfer = donations.allocate_from_pool(**allocation)
    donations.allocate_from_pool(**allocation)  # retried

    (note,) = notes("coins_donation")
    assert (note.recipient, note.key) == (needy, f"transfer:{transfer.pk}")
    assert note.params == {"coins": "2"}
    assert note.url == reverse("ledger:my_coins")


def test_it_tells_the_elder_of_a_donation_made_to_them(policy_name, volunteer, needy, district):
    policy_name("beijing-2022")
    earn(district, volunteer, 3 * HOUR)
    transfer = donations.donate(
        donation_id=uuid.uuid4(),
        donor=volunteer,
        target="elder",
        elder=needy,
        amount=HOUR,
        actor=volunteer,
    )

    (note,) = notes("coins_donation")
    assert (note.recipient, note.key, note.params) == (
        needy,
        f"transfer:{transfer.pk}",
        {"coins": "1"},
    )


# --- the audit -------------------------------------------------------------------------------


def _break_the_books(district, user):
    account = selectors.member_account(user)
    earn(district, user, HOUR)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE ledger_account SET posted_credits = posted_credits + 1 WHERE id = %s",
            [account.pk],
        )


def test_it_tells_every_head_office_urgently_of_a_failed_audit(
    district, volunteer, head_office, staff_a, official, city
):
    other_district = BranchFactory(name="静安区", code="jingan", kind="district", parent=city)
    other_head = StaffRoleFactory(role="head_office", branch=other_district).user
    assert run_audit(actor=None).ok  # a clean run tells nobody
    assert notes("audit_failed") == []

    _break_the_books(district, volunteer)
    run = run_audit(actor=None)

    assert not run.ok
    told = notes("audit_failed")
    assert {n.recipient_id for n in told} == {head_office.pk, other_head.pk}
    for note in told:
        assert note.urgent
        assert note.key == f"audit:{run.pk}"
        assert note.params["count"] == len(run.findings) > 0
        assert note.params["when"]
        assert note.url == reverse("admin:ledger_auditrun_change", args=[run.pk])


def test_it_tells_of_each_failed_run_once(district, volunteer, head_office):
    from ledger.messages import tell_audit_failed

    _break_the_books(district, volunteer)
    first = run_audit(actor=None)
    tell_audit_failed(first)  # the same run told again
    second = run_audit(actor=None)

    told = notes("audit_failed")
    assert sorted(n.key for n in told) == sorted([f"audit:{first.pk}", f"audit:{second.pk}"])
    assert {n.recipient_id for n in told} == {head_office.pk}
