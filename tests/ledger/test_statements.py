"""Statements in plain words (``ledger.statements.describe``) on /coins/, from both sides."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape
from django.utils.translation import gettext as _

from accounts.models import Relative
from ledger import donations, selectors, services
from ledger.models import Gift
from ledger.statements import describe, gifts_by_transfer
from tests.conftest import session_queries
from tests.factories import MemberFactory, RelativeFactory
from tests.ledger.test_donations import HOUR, earn, mark_in_need

pytestmark = pytest.mark.django_db
LEDGER_WORDS = ("托管", "发放池", "待定", "预留", "冻结")
ENGLISH_LEDGER_WORDS = ("escrow", "grant pool", "order hold", "pending reservation")


def make_gift(giver, receiver, amount=HOUR, *, approve=None, relation="parent"):
    """A gift as ``ledger.gifts`` records it: pending until approved (posted) or rejected."""
    relative = Relative.objects.filter(member__user=giver, relative=receiver).first()
    relative = relative or RelativeFactory(
        member=giver.member, relative=receiver, relation=relation
    )
    gift_id = uuid.uuid4()
    transfer = services.reserve(
        transfer_id=services.transfer_id_for(f"gift:{gift_id}"),
        debit=selectors.member_account(giver),
        credit=selectors.member_account(receiver),
        amount=amount,
        code="gift",
        actor=giver,
    )
    gift = Gift.objects.create(
        id=gift_id,
        giver=giver,
        receiver=receiver,
        relative=relative,
        relation=relation,
        street=giver.member.street,
        amount=amount,
        status=Gift.Status.PENDING,
        transfer_id=transfer.pk,
    )
    if approve is not None:
        resolve = services.post if approve else services.void
        done = resolve(transfer_id=uuid.uuid4(), pending_id=transfer.pk, actor=None)
        gift.status = Gift.Status.POSTED if approve else Gift.Status.REJECTED
        gift.resolution_id = done.pk
        gift.save()
    return gift


def said(user, transfer_id) -> str:
    """The line of ``transfer_id`` as ``user`` reads it on their statement."""
    account = selectors.member_account(user)
    transfer = selectors.transfers_of(account).get(pk=transfer_id)
    return describe(account, transfer, gifts_by_transfer([transfer]).get(transfer.pk))


def gift_to(relation, name):
    return _("Gift to %(relation)s %(name)s") % {
        "relation": dict(Relative.Relation.choices)[relation],
        "name": name,
    }


def set_aside(text):
    return _("Set aside: %(what)s") % {"what": text}


@pytest.fixture
def earned(volunteer, district):
    earn(district, volunteer, 10 * HOUR)
    return volunteer


def test_a_gift_waiting_for_approval_reads_so_on_both_sides(earned, elder):
    gift = make_gift(earned, elder)
    waiting = _("%(what)s (%(status)s)") % {
        "what": gift_to("parent", "张**"),
        "status": Gift.Status.PENDING.label,
    }
    assert said(earned, gift.transfer_id) == set_aside(waiting)
    received = _("Gift received from %(name)s") % {"name": "王**"}
    assert said(elder, gift.transfer_id) == set_aside(received)


def test_an_approved_gift_reads_as_given_and_received(earned, elder):
    gift = make_gift(earned, elder, approve=True)
    assert said(earned, gift.resolution_id) == gift_to("parent", "张**")
    assert said(elder, gift.resolution_id) == _("Gift received from %(name)s") % {"name": "王**"}


def test_a_gift_without_its_record_names_the_other_side_masked(earned, elder):
    t = services.transfer(
        transfer_id=uuid.uuid4(),
        debit=selectors.member_account(earned),
        credit=selectors.member_account(elder),
        amount=HOUR,
        code="gift",
        actor=earned,
    )
    assert said(earned, t.pk) == _("Gift to %(name)s") % {"name": "张**"}


def test_donations_read_by_target_and_as_received(
    earned, elder, head_office, district, policy_name
):
    policy_name("beijing-2022")
    mark_in_need(elder)
    to_pool = donations.donate(
        donation_id=uuid.uuid4(), donor=earned, target="pool", amount=HOUR, actor=earned
    )
    to_elder = donations.donate(
        donation_id=uuid.uuid4(),
        donor=earned,
        target="elder",
        elder=elder,
        amount=HOUR,
        actor=earned,
    )
    allocated = donations.allocate_from_pool(
        allocation_id=uuid.uuid4(),
        district=district,
        elder=elder,
        amount=HOUR,
        actor=head_office,
        reason="困难帮扶",
    )
    assert said(earned, to_pool.pk) == _("Donation to the Time Bank care pool")
    assert said(earned, to_elder.pk) == _("Donation to %(name)s") % {"name": "张**"}
    assert said(elder, to_elder.pk) == _("Donation received")
    assert said(elder, allocated.pk) == _("Donation received")


def test_an_order_paid_by_the_member_and_the_volunteers_income(elder, volunteer, district):
    escrow = selectors.escrow_account(district)
    services.transfer(
        transfer_id=uuid.uuid4(),
        debit=selectors.grant_pool(district),
        credit=selectors.member_account(elder),
        amount=2 * HOUR,
        code="grant",
        actor=None,
    )
    hold = services.reserve(
        transfer_id=uuid.uuid4(),
        debit=selectors.member_account(elder),
        credit=escrow,
        amount=HOUR,
        code="hold",
        actor=None,
    )
    credit = services.reserve(
        transfer_id=uuid.uuid4(),
        debit=escrow,
        credit=selectors.member_account(volunteer),
        amount=HOUR,
        code="service",
        actor=None,
    )
    assert said(elder, hold.pk) == set_aside(_("Paid for your own care"))
    assert said(volunteer, credit.pk) == set_aside(_("Service income"))
    paid = services.post(transfer_id=uuid.uuid4(), pending_id=hold.pk, actor=None)
    earned = services.post(transfer_id=uuid.uuid4(), pending_id=credit.pk, actor=None)
    assert said(elder, paid.pk) == _("Paid for your own care")
    assert said(volunteer, earned.pk) == _("Service income")


def test_a_grant_and_its_reversal(elder, district, head_office):
    granted = services.grant(
        transfer_id=uuid.uuid4(),
        district=district,
        to=selectors.member_account(elder),
        amount=HOUR,
        actor=head_office,
        reason="高龄补贴",
    )
    reversal = services.reverse(
        transfer_id=uuid.uuid4(), original_id=granted.pk, actor=head_office, reason="重复发放"
    )
    assert said(elder, granted.pk) == _("Government grant")
    assert said(elder, reversal.pk) == _("Reversal")


def _every_kind_of_line(earned, elder, district, head_office):
    make_gift(earned, elder)
    make_gift(earned, elder, approve=True)
    escrow = selectors.escrow_account(district)
    services.grant(
        transfer_id=uuid.uuid4(),
        district=district,
        to=selectors.member_account(elder),
        amount=3 * HOUR,
        actor=head_office,
        reason="高龄补贴",
    )
    hold = services.reserve(
        transfer_id=uuid.uuid4(),
        debit=selectors.member_account(elder),
        credit=escrow,
        amount=HOUR,
        code="hold",
        actor=None,
    )
    services.post(transfer_id=uuid.uuid4(), pending_id=hold.pk, actor=None)
    services.reserve(
        transfer_id=uuid.uuid4(),
        debit=selectors.member_account(elder),
        credit=escrow,
        amount=HOUR,
        code="hold",
        actor=None,
    )


@pytest.mark.parametrize("who", ["earned", "elder"])
def test_member_pages_use_no_ledger_words(client, who, earned, elder, district, head_office):
    _every_kind_of_line(earned, elder, district, head_office)
    client.force_login({"earned": earned, "elder": elder}[who])
    html = client.get("/coins/").content.decode()
    for word in LEDGER_WORDS:
        assert word not in html, word
    for word in ENGLISH_LEDGER_WORDS:
        assert word not in html.lower(), word
    other = {"earned": elder, "elder": earned}[who]
    assert other.full_name not in html  # the other side only by masked name


def test_the_statement_page_shows_the_plain_words(client, earned, elder, district, head_office):
    _every_kind_of_line(earned, elder, district, head_office)
    client.force_login(elder)
    html = client.get("/coins/").content.decode()
    received = _("Gift received from %(name)s") % {"name": "王**"}
    for text in (
        received,
        set_aside(received),
        _("Government grant"),
        _("Paid for your own care"),
        set_aside(_("Paid for your own care")),
    ):
        assert escape(text) in html, text
    assert "王志愿" not in html


def test_the_giver_never_sees_the_receivers_full_name(client, earned, elder):
    make_gift(earned, elder, approve=True)
    client.force_login(earned)
    html = client.get("/coins/").content.decode()
    assert escape(gift_to("parent", "张**")) in html and "张阿婆" not in html


def test_the_page_costs_the_same_queries_for_two_gifts_or_twenty(
    client, earned, street_a, django_assert_max_num_queries
):
    receivers = [MemberFactory(elder=True, street=street_a).user for _ in range(20)]

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/coins/").status_code == 200
        return len(queries)

    client.force_login(earned)
    for receiver in receivers[:2]:
        make_gift(earned, receiver, 10, approve=True)
        make_gift(earned, receiver, 10)
    few = count()
    for receiver in receivers[2:]:
        make_gift(earned, receiver, 10, approve=True)
        make_gift(earned, receiver, 10)
    assert count() == few
    # session, user, account, page count, page, open pending, gifts, member, the member's
    # user, base accounts; not yet eligible: hours served (twice: the sentence and
    # care_spendable), care-only coins (3 sums, twice: care_spendable and giftable)
    with django_assert_max_num_queries(18 + session_queries()):
        client.get("/coins/")


def test_the_box_shows_what_may_be_used_given_and_the_links_the_scheme_allows(
    client, earned, policy_name, no_donations
):
    client.force_login(earned)
    html = client.get("/coins/").content.decode()
    assert 'data-testid="eligibility"' in html
    assert 'data-testid="giftable">10 ' in html
    assert 'href="/coins/gift/"' in html and 'href="/coins/donate/"' not in html
    policy_name("beijing-2022")
    html = client.get("/coins/").content.decode()
    assert 'href="/coins/donate/"' in html and 'href="/coins/spend/"' in html  # aged 65


def test_a_member_who_may_not_spend_yet_gets_no_spend_link(client, earned):
    client.force_login(earned)  # changning: 10 hours served of the 100 needed, verified today
    html = client.get("/coins/").content.decode()
    assert 'href="/coins/spend/"' not in html
    assert 'data-testid="care-spendable">0 ' in html
