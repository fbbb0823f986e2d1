"""The coins section of the report (``reports.coins.coin_section``): each figure hand-counted
from data made through the real services, the period's edges at midnight in Shanghai, the
period before, and each scope's own coins only."""

from __future__ import annotations

import pickle
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.template.loader import render_to_string
from django.utils import timezone, translation

from exchange import services as exchange
from exchange.models import Item, PickupPoint, Stock
from ledger import donations, gifts, selectors
from ledger import services as ledger
from ledger.models import Account
from orders import services as orders
from orders.models import ServiceCategory
from reports.coins import CoinSection, coin_section, scope_accounts
from reports.period import Period, month_period
from reports.scope import Scope
from tests.factories import MemberFactory, RelativeFactory, UserFactory

pytestmark = pytest.mark.django_db

HOUR = 60
SHANGHAI = ZoneInfo("Asia/Shanghai")


# --- building the data through the services ---------------------------------------------------


def grant(head_office, district, account, minutes: int):
    return ledger.grant(
        transfer_id=uuid.uuid4(),
        district=district,
        to=account,
        amount=minutes,
        actor=head_office,
        reason="特殊困难老人补贴",
    )


def grant_at(monkeypatch, when: datetime, *args):
    """A grant dated ``when``: the ledger dates a single-phase transfer with ``timezone.now``."""
    with monkeypatch.context() as patch:
        patch.setattr(timezone, "now", lambda: when)
        return grant(*args)


def category(code: str, name: str, mode: str) -> ServiceCategory:
    return ServiceCategory.objects.get_or_create(code=code, defaults={"name": name, "mode": mode})[
        0
    ]


def home_service(*, elder, volunteer, advisor, staff, head_office, family, minutes: int):
    """A home service for ``elder``, paid with the elder's coins, served and confirmed."""
    req = orders.post_request(
        actor=advisor,
        category=category("companionship-home", "陪伴(居家)", "home"),
        title="陪张阿婆散步",
        recipient=elder,
        address="天山路1号",
        starts_at=timezone.now() + timedelta(minutes=10),
        duration_minutes=minutes,
        auto_confirm=True,
    )
    orders.approve_by_street(service_request=req, actor=staff)
    orders.approve_by_head_office(service_request=req, actor=head_office)
    req.refresh_from_db()
    a = orders.grab_place(service_request=req, volunteer=volunteer)
    orders.sign_in(assignment=a, actor=volunteer, code=req.checkin_code)
    return orders.complete_assignment(assignment=a, actor=family, minutes=minutes)


def base_need(*, base, base_staff, staff, head_office, minutes: int):
    """A base's need, published: the base's coins are held, nothing has moved yet."""
    req = orders.post_request(
        actor=base_staff,
        category=category("companionship-institution", "陪伴(机构)", "institution"),
        title="陪伴聊天",
        base=base,
        starts_at=timezone.now() + timedelta(days=1),
        duration_minutes=minutes,
    )
    orders.approve_by_street(service_request=req, actor=staff)
    orders.approve_by_head_office(service_request=req, actor=head_office)
    return req


def exchange_order(member, item, point):
    return exchange.place_order(
        order_id=uuid.uuid4(), member=member, item=item, point=point, actor=member
    )


@pytest.fixture
def month() -> Period:
    return month_period(timezone.localdate())


@pytest.fixture
def hongqiao_elder(street_b):
    return MemberFactory(elder=True, street=street_b, user__full_name="虹桥老人").user


@pytest.fixture
def books(
    monkeypatch,
    month,
    district,
    street_a,
    base_a,
    elder,
    volunteer,
    family,
    advisor_a,
    staff_a,
    base_staff_a,
    head_office,
    hongqiao_elder,
):
    """This month in 天山 (minutes):

    - granted: 900 to 张阿婆, 240 to 天山养老院 (and 120 to 张阿婆 last month);
    - 张阿婆's home service of 120, served by 王志愿 and confirmed: spent 120, earned 120;
    - 王志愿 gives 60 to 张阿婆 (his parent; the street approves) and donates 60 to the pool;
    - 张阿婆 collects rice for 5 coins (300) and orders another, not yet collected (300 held);
    - 天山养老院 publishes a need of 60: 60 held.
    In 虹桥: 420 and 60 granted to 虹桥老人, the 60 reversed by head office.
    """
    elder_account = selectors.member_account(elder)
    base_account = selectors.base_account(base_a)
    grant_at(
        monkeypatch,
        month.start_at - timedelta(hours=1),
        head_office,
        district,
        elder_account,
        120,
    )
    grant(head_office, district, elder_account, 900)
    grant(head_office, district, base_account, 240)

    home_service(
        elder=elder,
        volunteer=volunteer,
        advisor=advisor_a,
        staff=staff_a,
        head_office=head_office,
        family=family,
        minutes=2 * HOUR,
    )
    parent = RelativeFactory(member=volunteer.member, relative=elder, relation="parent")
    gift = gifts.give_coins(
        gift_id=uuid.uuid4(), giver=volunteer, relative=parent, amount=HOUR, actor=volunteer
    )
    gifts.approve_gift(gift=gift, actor=staff_a)
    donations.donate(
        donation_id=uuid.uuid4(), donor=volunteer, target="pool", amount=HOUR, actor=volunteer
    )

    point = PickupPoint.objects.create(
        name="天山慈善超市", street=street_a, address="天山路 100 号", opening_hours="9:00–17:00"
    )
    clerk = UserFactory(full_name="天山超市店员")
    point.staff.add(clerk)
    rice = Item.objects.create(name="大米 5 斤", price=5, donor_kind=Item.Donor.FIRM)
    Stock.objects.create(item=rice, point=point, quantity=10)
    collected = exchange_order(elder, rice, point)
    exchange.collect_order(point=point, code=collected.code, actor=clerk)
    exchange_order(elder, rice, point)  # waiting at the counter: held

    base_need(base=base_a, base_staff=base_staff_a, staff=staff_a, head_office=head_office,
              minutes=HOUR)  # fmt: skip

    hongqiao = selectors.member_account(hongqiao_elder)
    grant(head_office, district, hongqiao, 420)
    mistake = grant(head_office, district, hongqiao, 60)
    ledger.reverse(
        transfer_id=uuid.uuid4(), original_id=mistake.pk, actor=head_office, reason="录入错误"
    )
    return month


def figures(section: CoinSection) -> dict[str, tuple[int, int | None]]:
    return {line.key: (line.minutes_now, line.minutes_before) for line in section.lines}


# --- the figures ------------------------------------------------------------------------------


def test_a_streets_coins_are_counted_exactly(books, district, street_a):
    section = coin_section(Scope("street", district, street=street_a), books)
    assert figures(section) == {
        "granted": (1140, 120),
        "earned": (120, 0),
        "spent": (120, 0),
        "exchanged": (300, 0),
        "gifted": (60, 0),
        "donated": (60, 0),
        "held": (360, None),  # the base's need 60, the rice not yet collected 300
        "outstanding": (660, None),  # 张阿婆 120 + 900 − 120 + 60 − 300; 王志愿 spent his
    }
    assert section.period == books and section.previous == books.previous()


def test_the_other_street_sees_only_its_own_coins_with_the_reversal_subtracted(
    books, district, street_b
):
    section = coin_section(Scope("street", district, street=street_b), books)
    assert figures(section) == {
        "granted": (420, 0),  # 420 + 60 − 60 reversed
        "earned": (0, 0),
        "spent": (0, 0),
        "exchanged": (0, 0),
        "gifted": (0, 0),
        "donated": (0, 0),
        "held": (0, None),
        "outstanding": (420, None),
    }


def test_the_district_adds_its_streets_and_counts_pool_allocations_nowhere(books, district):
    section = coin_section(Scope("district", district), books)
    assert figures(section) == {
        "granted": (1560, 120),
        "earned": (120, 0),
        "spent": (120, 0),
        "exchanged": (300, 0),
        "gifted": (60, 0),
        "donated": (60, 0),
        "held": (360, None),
        "outstanding": (1080, None),  # members only: the pool's 60 and the base's 240 aside
    }


def test_a_base_sees_its_own_account_and_no_members(books, district, street_a, base_a):
    section = coin_section(Scope("base", district, street=street_a, base=base_a), books)
    assert figures(section) == {
        "granted": (240, 0),
        "earned": (0, 0),
        "spent": (0, 0),  # its need is published, not served
        "exchanged": (0, 0),
        "gifted": (0, 0),
        "donated": (0, 0),
        "held": (60, None),
    }


def test_the_month_before_holds_last_months_grant_only(books, district, street_a):
    section = coin_section(Scope("street", district, street=street_a), books.previous())
    got = figures(section)
    assert got["granted"] == (120, 0)
    assert all(got[key] == (0, 0) for key in ("earned", "spent", "exchanged", "gifted", "donated"))
    assert got["outstanding"] == (660, None)  # a figure of now, whatever the period


def test_the_fast_scope_reads_the_same_accounts_as_the_scopes_own_rule(
    books, district, street_a, street_b, base_a
):
    scopes = [
        Scope("district", district),
        Scope("street", district, street=street_a),
        Scope("street", district, street=street_b),
        Scope("base", district, street=street_a, base=base_a),
    ]
    for scope in scopes:
        fast = set(scope_accounts(scope).values_list("pk", flat=True))
        rule = set(Account.objects.filter(scope.accounts_q()).values_list("pk", flat=True))
        assert fast == rule and fast, scope.label


def test_it_reads_in_one_statement_and_pickles(books, district, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):  # SET LOCAL jit = off, then the figures
        section = coin_section(Scope("district", district), books)
    again = pickle.loads(pickle.dumps(section))  # noqa: S301 (our own bytes, as the cache)
    assert again == section and again.line("granted").minutes_now == 1560


# --- the period's edges -----------------------------------------------------------------------


def test_a_month_runs_from_midnight_to_midnight_in_shanghai(
    monkeypatch, district, street_a, elder, head_office
):
    account = selectors.member_account(elder)
    at = lambda *parts: datetime(*parts, tzinfo=SHANGHAI)  # noqa: E731
    for when, minutes in [
        (at(2025, 10, 31, 23, 59, 59, 999999), 60),  # October's last instant
        (at(2025, 11, 1, 0, 0), 120),  # November's first (16:00 UTC on 31 October)
        (at(2025, 11, 30, 23, 59, 59), 180),
        (at(2025, 12, 1, 0, 0), 240),  # December's
        (at(2025, 9, 30, 23, 59), 300),  # September's: outside both
    ]:
        grant_at(monkeypatch, when, head_office, district, account, minutes)
    scope = Scope("street", district, street=street_a)

    november = coin_section(scope, month_period(date(2025, 11, 1)))
    assert november.line("granted").minutes_now == 120 + 180
    assert november.line("granted").minutes_before == 60

    days = coin_section(scope, Period("custom", date(2025, 11, 30), date(2025, 12, 1)))
    assert (days.line("granted").minutes_now, days.line("granted").minutes_before) == (420, 0)
    assert days.previous == Period("custom", date(2025, 11, 28), date(2025, 11, 29))


# --- the partial ------------------------------------------------------------------------------


def test_the_partial_shows_hours_in_chinese_and_in_english(books, district, street_a):
    section = coin_section(Scope("street", district, street=street_a), books)
    with translation.override("zh-hans"):
        html = render_to_string("reports/_coins.html", {"coins": section})
    assert "时间币" in html and "19 小时" in html and "+17 小时" in html  # 1140 and 1140 − 120
    assert "11 小时" in html  # owed: 660
    assert 'class="report-scroll"' in html
    with translation.override("en"):
        html = render_to_string("reports/_coins.html", {"coins": section})
    assert "Granted" in html and "19 hours" in html and "Owed to members now" in html
