"""Generated values for every form and GET parameter of the member pages, and for every admin
page and action staff use: no answer is a 5xx, and a refused request changes nothing.

``MEMBER_PAGES`` and ``ADMIN_FORMS`` list the pages by URL name (test_it_covers_every_page_of_ours
keeps them in step with the URLs); the admin's lists and actions are read from the admin site.
Each page gets the values it accepts with one or two made hostile, so that the services behind
a valid form are reached too; every example is rolled back, so each starts from the same world.
"""

# The orders fixtures (needs, coins) are imported, then named as test arguments.
# ruff: noqa: F811

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from urllib.parse import quote

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import RequestFactory
from django.urls import get_resolver, reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts import idnumbers
from accounts.models import Relative
from exchange import services as exchange_services
from honour import certificates as honour_certificates
from honour.models import CertificateBatch
from ledger import selectors as ledger_selectors
from ledger import services as ledger_services
from ledger.audit import run_audit
from orders import services
from orders.models import ServiceRequest
from tests.exchange.conftest import clerk_a, point_a, point_b, rice, spender  # noqa: F401
from tests.factories import MemberFactory, RelativeFactory
from tests.fuzz_notices import NoticesWorld, notices_snapshot, wechat_on
from tests.honour import test_admission as admission_tests
from tests.honour import test_awards as award_tests
from tests.hostile import HOSTILE, accepted, snapshot
from tests.ledger.test_admin import id_number_of
from tests.orders.conftest import (  # noqa: F401
    base_funds,
    category,
    elder_funds,
    home_category,
    make_need,
)

pytestmark = pytest.mark.django_db

OURS = {
    "accounts",
    "branches",
    "ledger",
    "orders",
    "exchange",
    "honour",
    "reports",
    "news",
    "notices",
    "wechat_mp",  # accounts.wechat_mp's label: its admin; its URLs' views are under accounts
}

FUZZ = settings(
    max_examples=12,
    deadline=None,
    database=None,  # each run explores afresh; a failure prints its example
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

hostile = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=40),  # every code point but surrogates: NUL and controls included
    st.integers().map(str),
    st.floats().map(repr),
    st.dates().map(str),
)


def value(valid: str | None) -> st.SearchStrategy[str]:
    """Half the time the value the page accepts, else a hostile one."""
    return hostile if valid is None else st.one_of(st.just(valid), hostile)


def spoil(data, valid: dict) -> dict:
    """The values a page accepts with up to two of them hostile, so that the other checks and
    the services behind a valid form are reached too (a field without one is always hostile)."""
    spoiled = data.draw(st.sets(st.sampled_from(sorted(valid)), max_size=2)) if valid else set()
    return {
        name: data.draw(hostile) if name in spoiled or good is None else good
        for name, good in valid.items()
    }


class World(NoticesWorld):
    """The objects a page needs, made on first use through the services (one test each);
    those of issue 15's pages in tests/fuzz_notices.py."""

    def __init__(self, request):
        self.fixture = request.getfixturevalue

    def __getattr__(self, name):  # personas and the organisation: tests/conftest.py
        return self.fixture(name)

    def need(self, **kwargs) -> ServiceRequest:
        return self.fixture("make_need")(**kwargs)

    @cached_property
    def exchange_order(self):
        return exchange_services.place_order(
            order_id=uuid.uuid4(),
            member=self.spender,
            item=self.rice,
            point=self.point_a,
            actor=self.spender,
        )

    @cached_property
    def published(self):
        return self.need(title="发布的需求")

    @cached_property
    def submitted(self):
        return self.need(publish=False, title="待分行审核")

    @cached_property
    def street_approved(self):
        req = self.need(publish=False, title="待总行审核")
        return services.approve_by_street(service_request=req, actor=self.staff_a)

    @cached_property
    def draft(self):
        return services.post_request(
            actor=self.base_staff_a,
            category=self.category,
            title="草稿",
            base=self.base_a,
            starts_at=timezone.now() + timedelta(days=2),
            duration_minutes=60,
            submit=False,
        )

    @cached_property
    def grabbed(self):
        return services.grab_place(service_request=self.published, volunteer=self.volunteer)

    @cached_property
    def confirmed(self):
        req = self.need(starts_in=timedelta(minutes=10), auto_confirm=True, title="可签到")
        return services.grab_place(service_request=req, volunteer=self.volunteer)

    @cached_property
    def signed_in(self):
        a = self.confirmed
        return services.sign_in(assignment=a, actor=self.volunteer, code=a.request.checkin_code)

    @cached_property
    def signed_out(self):
        return services.sign_out(assignment=self.signed_in, actor=self.volunteer)

    @cached_property
    def completed(self):
        a = self.signed_out
        ServiceRequest.objects.filter(pk=a.request_id).update(recipient=self.elder)
        return services.complete_assignment(assignment=a, actor=self.base_staff_a, minutes=60)

    @cached_property
    def pending_relative(self):
        member = MemberFactory(family=True, street=self.street_a)
        return RelativeFactory(
            member=member, relative=self.elder, status=Relative.Status.PENDING, reviewed_at=None
        )

    @cached_property
    def funded_base(self):
        self.fixture("base_funds")
        return self.base_a

    @cached_property
    def funded_elder(self):
        self.fixture("elder_funds")
        return self.elder

    @cached_property
    def earned_volunteer(self):
        """The volunteer, with 5 hours earned by serving (which may be given on)."""
        from tests.ledger.test_gifts import earn

        pool = ledger_selectors.grant_pool(self.district)
        earn(pool, ledger_selectors.member_account(self.volunteer), 300)
        return self.volunteer

    @cached_property
    def parent_link(self) -> Relative:
        """The elder, confirmed as the earned volunteer's parent."""
        from tests.ledger.test_gifts import link

        return link(self.earned_volunteer, self.elder, "parent")

    @cached_property
    def pending_gift(self):
        from tests.ledger.test_gifts import give

        return give(self.volunteer, self.parent_link, 60)

    @cached_property
    def grant(self):
        return ledger_services.grant(
            transfer_id=uuid.uuid4(),
            district=self.district,
            to=ledger_selectors.member_account(self.elder),
            amount=120,
            actor=self.head_office,
            reason="补贴",
        )

    def use_beijing(self) -> None:
        """Beijing's policy (awards, care-home places) for the rest of the test."""
        self.fixture("policy_name")("beijing-2022")

    @cached_property
    def award_star(self):
        """A 天山 volunteer with 120 hours served last year (Beijing: no daily cap)."""
        self.use_beijing()
        return award_tests.star_of(self.street_a, "天山明星")

    @cached_property
    def award_round(self):
        return award_tests.open_round(self.district, self.head_office)

    @cached_property
    def nomination(self):
        return award_tests.nominate(self.award_round, self.staff_a, self.award_star)

    @cached_property
    def admission_elder(self):
        """The elder with 10,000 coins under Beijing's policy: may apply for a care home."""
        self.use_beijing()
        admission_tests.fund(self.elder, admission_tests.TEN_THOUSAND)
        return self.elder

    @cached_property
    def admission_application(self):
        return admission_tests.apply(self.admission_elder)

    def id_number(self, years: int = 66) -> str:
        from tests.factories import years_ago

        return idnumbers.make_id_number(birth_date=years_ago(years), sex="M", serial=777)


TOMORROW = "tomorrow"  # replaced by the date when the page is sent


@dataclass(frozen=True)
class Page:
    """One page: who opens it, how, the parameters it reads and a value each accepts."""

    url: str  # a URL name
    persona: str  # a fixture of tests/conftest.py; "" for a visitor
    method: str
    fields: dict  # name -> an accepted value, or a function of the World giving one
    arg: str = ""  # the World attribute whose pk the URL takes
    url_args: tuple = ()  # fixed arguments of the URL (an export's name and format)

    def path(self, world: World) -> str:
        if not self.arg:
            return reverse(self.url, args=self.url_args)
        return reverse(self.url, args=[getattr(world, self.arg).pk])


def pk(name):
    return lambda w: str(getattr(w, name).pk)


NEED = {
    "category": pk("category"),
    "title": "陪伴聊天",
    "description": "陪老人聊天",
    "requirements": "耐心",
    "address": "长宁路1号",
    "recipient_name": "",
    "day": TOMORROW,
    "start": "09:00",
    "units": "1",
    "places": "1",
    "auto_confirm": "",
    "early_min_level": "3",
}
LOCATION = {"latitude": "31.2", "longitude": "121.4", "accuracy": "10"}
PERSON = {
    "full_name": "王新",
    "street": pk("street_a"),
    "emergency_contact_name": "王家属",
    "emergency_contact_phone": "13800138000",
    "assessment_level": "3",
}
LAST_30_DAYS = {  # a proof of hours: the range a member asks for
    "start": lambda w: str(timezone.localdate() - timedelta(days=30)),
    "end": lambda w: str(timezone.localdate()),
}

MONTH = {"period": "month", "month": lambda w: timezone.localdate().strftime("%Y-%m")}
CUSTOM = {"period": "custom", **LAST_30_DAYS}

NEWS_LIST = {"page": lambda w: w.news_item and "1", "category": "notice"}

MEMBER_PAGES = [
    Page(
        "orders:available",
        "volunteer",
        "get",
        {
            "street": pk("street_a"),
            "category": pk("category"),
            "day": TOMORROW,
            "lat": "31.2",
            "lng": "121.4",
            "after": "1.1",
        },
    ),
    Page(
        "orders:new",
        "base_staff_a",
        "post",
        {**NEED, "base": pk("base_a"), "recipient": "", "submission_id": str(uuid.uuid4())},
    ),
    Page("orders:edit", "base_staff_a", "post", NEED, arg="draft"),
    Page("orders:cancel", "base_staff_a", "post", {"reason": "取消"}, arg="published"),
    Page("orders:checkin", "volunteer", "get", {"code": None}),
    Page(
        "orders:checkin",
        "volunteer",
        "post",
        {**LOCATION, "code": lambda w: w.confirmed.request.checkin_code, "method": "qr"},
    ),
    Page("orders:sign_out", "volunteer", "post", LOCATION, arg="signed_in"),
    Page("orders:cancel_place", "volunteer", "post", {"reason": "有事"}, arg="grabbed"),
    Page("orders:decline_place", "base_staff_a", "post", {"reason": "人满"}, arg="grabbed"),
    Page("orders:complete", "base_staff_a", "post", {"minutes": "60"}, arg="signed_out"),
    Page(
        "orders:rate",
        "elder",
        "post",
        {"rating": "5", "comment": "谢谢", "signature": ""},
        arg="completed",
    ),
    Page("ledger:my_coins", "volunteer", "get", {"older": "1", "newer": "1", "oldest": "1"}),
    Page(
        "ledger:base_coins",
        "base_staff_a",
        "get",
        {"older": "1", "newer": "1", "oldest": "1"},
        arg="funded_base",
    ),
    Page(
        "ledger:gift",
        "volunteer",
        "post",
        {"gift_id": str(uuid.uuid4()), "relative": pk("parent_link"), "hours": "1"},
    ),
    Page(
        "ledger:donate",
        "earned_volunteer",
        "post",
        {"donation_id": str(uuid.uuid4()), "recipient": "pool", "hours": "1"},
    ),
    Page(
        "spend_coins",
        "funded_elder",
        "post",
        {
            "submission_id": str(uuid.uuid4()),
            "category": pk("home_category"),
            "day": TOMORROW,
            "start": "09:00",
            "units": "1",
            "where": "home",
            "address": "天山路1号",
            "base": "",
            "description": "",
        },
    ),
    Page(
        "accounts:register",
        "outsider",
        "post",
        {
            **PERSON,
            "role": "volunteer",
            "id_number": lambda w: w.id_number(),
            "guardian_name": "",
            "guardian_phone": "",
        },
    ),
    Page(
        "accounts:register_elder",
        "advisor_a",
        "post",
        {**PERSON, "id_number": lambda w: w.id_number(82), "phone": ""},
    ),
    Page(
        "accounts:relatives",
        "volunteer",
        "post",
        {"relative_phone": "13800138001", "relation": "parent"},
    ),
    Page(
        "accounts:new_password", "volunteer", "post", {"new_password1": None, "new_password2": None}
    ),
    Page(
        "branches:apply_for_base",
        "outsider",
        "post",
        {
            "name": "新的养老院",
            "kind": "care_home",
            "street": pk("street_a"),
            "address": "长宁路9号",
            "licence_number": "LIC-999",
            "contact_name": "院长",
            "contact_phone": "13800138002",
        },
    ),
    Page("exchange:catalogue", "spender", "get", {"point": pk("point_a"), "kind": "goods"}),
    Page(
        "exchange:item",
        "spender",
        "post",
        {"point": pk("point_a"), "submission_id": str(uuid.uuid4())},
        arg="rice",
    ),
    Page("exchange:orders", "spender", "get", {"page": "1"}),
    Page("exchange:collect", "clerk_a", "get", {"point": pk("point_a"), "code": None}),
    Page(
        "exchange:collect",
        "clerk_a",
        "post",
        {"point": pk("point_a"), "code": lambda w: w.exchange_order.code},
    ),
    Page("honour:consent", "volunteer", "post", {"show_name": "on", "remove_photo": "on"}),
    Page(
        "honour:admission",
        "admission_elder",
        "post",
        {
            "reason": "独居高龄",
            "homes": pk("base_a"),
            "other_homes": "",
            "application_id": str(uuid.uuid4()),
        },
    ),
    Page("honour:issue", "earned_volunteer", "post", {"kind": "hours", **LAST_30_DAYS}),
    Page(
        "honour:print",
        "staff_a",
        "get",
        {"q": "王", "member": lambda w: str(w.earned_volunteer.member.pk)},
    ),
    Page(
        "honour:print",
        "staff_a",
        "post",
        {"member": lambda w: str(w.earned_volunteer.member.pk), "kind": "hours", **LAST_30_DAYS},
    ),
    # Reports: the period, the narrowing and each kind of export (issue 11).
    Page("reports:dashboard", "official", "get", {**MONTH, "street": pk("street_a")}),
    Page("reports:dashboard", "staff_a", "get", {**CUSTOM, "category": pk("category")}),
    Page("reports:exports", "head_office", "get", {**MONTH, "street": pk("street_a")}),
    Page(
        "reports:export_download",
        "head_office",
        "get",
        {**MONTH, "street": pk("street_a")},
        url_args=("services", "csv"),
    ),
    Page("reports:export_download", "staff_a", "get", CUSTOM, url_args=("members", "xlsx")),
    Page("reports:export_download", "official", "get", MONTH, url_args=("assessment", "pdf")),
    Page(
        "reports:export_download",
        "head_office",
        "post",
        {**MONTH, "reason": "报送志愿北京"},
        url_args=("volunteer-hours", "csv"),
    ),
    Page("reports:statement_pdf", "volunteer", "get", {"when": "custom", **LAST_30_DAYS}),
    # News and messages (issue 15).
    Page("news:list", "", "get", NEWS_LIST),
    Page("news:list", "volunteer", "get", NEWS_LIST),
    Page("notices:inbox", "volunteer", "get", {"page": lambda w: w.notes and "1"}),
    Page("notices:channels", "volunteer", "post", {"sms": "on", "wechat": ""}),
    Page("notices:advised", "advisor_a", "get", {"page": lambda w: w.phoneless_notes and "1"}),
    Page("notices:advised", "staff_a", "get", {"page": lambda w: w.phoneless_notes and "2"}),
    Page("set_language", "", "post", {"language": "en", "next": "/"}),
    Page("account_login", "", "post", {"phone": "13700000000", "password": None}),
    Page("account_signup", "", "post", {"phone": None, "password1": None, "password2": None}),
    Page("account_request_login_code", "", "post", {"phone": "13700000000"}),
]
# Pages that read nothing but the pk in their URL (or only a button's POST): the URL's pk is
# an <int:…> converter, so it never reaches a query as anything but a number.
NO_INPUT = {
    "home",
    "healthz",
    "accounts:profile",
    "accounts:id_document",
    "accounts:relative_proof",
    "branches:bases",
    "branches:base_document",
    "orders:mine",
    "orders:detail",
    "orders:grab",
    "orders:submit",
    "orders:card",
    "orders:confirm_place",
    "orders:signature",
    "admin_policy",
    "admin:ledger_auditrun_run",
    "exchange:photo",
    "exchange:cancel",
    "admin:exchange_item_photo",
    "admin:exchange_item_stock_history",
    "honour:roll",
    "honour:roll_photo",
    "honour:consent_photo",
    "honour:mine",
    "honour:certificate_pdf",
    "honour:batch",
    "honour:batch_file",
    "verify",  # its <str:number> is fuzzed in tests/honour/test_certificates_pages.py
    "reports:export_job",  # <uuid:pk>, the owner's only (tests/reports/test_export_jobs.py)
    "reports:export_job_file",
    "news:detail",
    "news:image",
    "notices:read_all",  # a button's POST: marks the reader's own messages read
}


def _resolve(fields: dict, world: World) -> dict:
    day = (timezone.localdate() + timedelta(days=1)).isoformat()
    out = {}
    for name, valid in fields.items():
        valid = valid(world) if callable(valid) else valid
        out[name] = day if valid == TOMORROW else valid
    return out


def _send(
    client,
    world: World,
    *,
    persona: str,
    method: str,
    path: str,
    data: dict,
    session: dict | None = None,
    may_change: bool = False,
):
    """Send one request, as ``persona`` with ``session`` in their session, and roll it back.
    ``may_change``: the page changes things without saying so (opening a message)."""
    user = getattr(world, persona) if persona else None  # made outside the rollback below
    with transaction.atomic():
        client.logout()
        if user is not None:
            client.force_login(user)
        if session:
            stored = client.session
            stored.update(session)
            stored.save()
        before = _snapshot()
        response = getattr(client, method)(path, data)
        _check(response, method=method, path=path, data=data, before=before, may_change=may_change)
        transaction.set_rollback(True)  # every example starts from the same world


def _snapshot() -> dict:
    return {**snapshot(), "issue 15": notices_snapshot()}


def _check(
    response, *, method: str, path: str, data: dict, before: dict, may_change: bool = False
) -> None:
    assert response.status_code < 500, (path, data)
    if method == "get" or not (may_change or accepted(response)):
        assert _snapshot() == before, (path, data, response.status_code)


@pytest.fixture
def world(request, settings, tmp_path):
    settings.ACCOUNT_RATE_LIMITS = False  # the fuzz must not leave rate-limit keys behind
    settings.PRIVATE_MEDIA_ROOT = str(tmp_path / "private")  # news pictures
    return World(request)


@pytest.mark.parametrize("page", MEMBER_PAGES, ids=lambda p: f"{p.method}:{p.url}")
@FUZZ
@given(data=st.data())
def test_it_answers_member_pages_below_500_and_refusals_change_nothing(client, world, page, data):
    values = spoil(data, _resolve(page.fields, world))
    path = page.path(world)
    _send(client, world, persona=page.persona, method=page.method, path=path, data=values)


# --- the admin -----------------------------------------------------------------------------

# Who uses each admin page, and which object its actions act on.
ADMIN_USERS = {
    "honour.awardround": "head_office",
    "honour.nomination": "head_office",
    "ledger.account": "head_office",
    "ledger.transfer": "head_office",
    "ledger.auditrun": "head_office",
    "orders.headofficequeuerequest": "head_office",
    "orders.servicecategory": "head_office",
    "exchange.pickuppoint": "head_office",
    "exchange.item": "head_office",
    "exchange.exchangeorder": "head_office",
    "honour.levelright": "head_office",
    "honour.honourstatus": "head_office",
    "honour.certificate": "head_office",
    "honour.certificatebatch": "head_office",
    "news.news": "head_office",
    "wechat_mp.wechatbindingevent": "admin_user",  # not scoped to a street: superusers only
}
SELECTED = {
    "honour.awardround": lambda w: w.award_round,
    "honour.nomination": lambda w: w.nomination,
    "honour.admissionapplication": lambda w: w.admission_application,
    "honour.certificate": lambda w: honour_certificates.issue_hours_certificate(
        member=w.earned_volunteer,
        start=timezone.localdate(),
        end=timezone.localdate(),
        actor=w.earned_volunteer,
    ),
    "honour.certificatebatch": lambda w: CertificateBatch.objects.create(
        street=w.street_a, kind="level", requested_by=w.head_office, status="failed"
    ),
    "accounts.member": lambda w: w.volunteer.member,
    "accounts.relative": lambda w: w.pending_relative,
    "branches.servicebase": lambda w: w.base_a,
    "orders.streetqueuerequest": lambda w: w.submitted,
    "orders.headofficequeuerequest": lambda w: w.street_approved,
    "orders.servicerequest": lambda w: w.submitted,
    "ledger.transfer": lambda w: w.grant,
    "ledger.gift": lambda w: w.pending_gift,
    "ledger.auditrun": lambda w: run_audit(actor=w.head_office),
    "exchange.item": lambda w: w.rice,
    "exchange.exchangeorder": lambda w: w.exchange_order,
    "news.news": lambda w: w.news_item,
    "notices.delivery": lambda w: w.failed_delivery,
}
# The value each action's intermediate form asks for (reason_action and its kin).
ACTION_FIELDS = {
    "award": {"reason": "事迹突出"},
    "not_award": {"reason": "名额有限"},
    "close_rounds": {"reason": "评选结束"},
    "pass_on": {"reason": "情况属实"},
    "street_reject": {"reason": "不符合条件"},
    "approve": {"reason": "同意"},
    "reject": {"reason": "材料不全"},
    "cancel_orders": {"reason": "会员要求"},
    "suspend": {"reason": "违规"},
    "reject_selected": {"reason": "材料不全"},
    "reverse_selected": {"reason": "录错"},
    "change_assessment_level": {"level": "3"},
    "mark_hardship": {"note": "独居高龄"},
    "revoke_certificates": {"reason": "信息有误"},
}


def _admins():
    return sorted(
        (label, model_admin)
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in OURS
        for label in [model._meta.label_lower]
    )


def _changelist_params(model_admin, user) -> list[str]:
    """The parameters the admin's list reads: search, order, page and every filter's own."""
    request = RequestFactory().get("/")
    request.user = user
    changelist = model_admin.get_changelist_instance(request)
    names = ["q", "o", "p", "all", "e", "_facets"]
    for spec in changelist.filter_specs:
        names.extend(spec.expected_parameters())
    if model_admin.date_hierarchy:
        names.extend(f"{model_admin.date_hierarchy}__{part}" for part in ("year", "month", "day"))
    return names


ADMIN_LISTS = [label for label, _ in _admins()]
ADMIN_ACTIONS = [
    (label, action)
    for label, model_admin in _admins()
    for action in model_admin.actions or ()
    if action != "delete_selected"
]


def _admin_persona(label: str) -> str:
    return ADMIN_USERS.get(label, "staff_a")


@pytest.mark.parametrize("label", ADMIN_LISTS)
@FUZZ
@given(data=st.data())
def test_it_answers_admin_lists_below_500(client, world, label, data):
    persona = _admin_persona(label)
    names = _changelist_params(dict(_admins())[label], getattr(world, persona))
    values = data.draw(st.dictionaries(st.sampled_from(names), hostile, max_size=4))
    path = reverse("admin:{}_{}_changelist".format(*label.split(".")))
    _send(client, world, persona=persona, method="get", path=path, data=values)


@pytest.mark.parametrize("label,action", ADMIN_ACTIONS, ids=lambda x: str(x))
@FUZZ
@given(data=st.data())
def test_it_answers_admin_actions_below_500_and_refusals_change_nothing(
    client, world, label, action, data
):
    selected = str(SELECTED[label](world).pk)
    values = spoil(data, {"_selected_action": selected, **ACTION_FIELDS.get(action, {})})
    _send(
        client,
        world,
        persona=_admin_persona(label),
        method="post",
        path=reverse("admin:{}_{}_changelist".format(*label.split("."))),
        data={**values, "action": action, "apply": "1"},
    )


NEWS = {  # a news item, as the admin's form sends it
    "title": "停电通知",
    "category": "notice",
    "district": pk("district"),
    "street": pk("street_a"),
    "pinned": "on",
    "publish_at_0": lambda w: str(timezone.localdate()),
    "publish_at_1": "08:00:00",
    "body": "<p>明天停电。</p>",
}
ADMIN_FORMS = [
    Page(
        "admin:honour_awardround_candidates",
        "staff_a",
        "post",
        {"member": pk("award_star"), "reason": "常年陪伴孤老"},
        arg="award_round",
    ),
    Page(
        "admin:honour_admissionapplication_apply",
        "staff_a",
        "post",
        {
            "application_id": str(uuid.uuid4()),
            "id_number": lambda w: id_number_of(w.admission_elder),
            "reason": "独居高龄",
            "homes": pk("base_a"),
            "other_homes": "",
        },
    ),
    Page(
        "admin:ledger_account_grant",
        "head_office",
        "post",
        {
            "transfer_id": str(uuid.uuid4()),
            "district": pk("district"),
            "id_number": lambda w: id_number_of(w.elder),
            "base": "",
            "hours": "1.5",
            "reason": "补贴",
        },
    ),
    Page(
        "admin_allocate_donations",
        "head_office",
        "post",
        {
            "allocation_id": str(uuid.uuid4()),
            "district": pk("district"),
            "elder": lambda w: str(w.elder.member.pk),
            "hours": "1",
            "reason": "分配",
        },
    ),
    Page(
        "admin:orders_servicerequest_post",
        "head_office",
        "post",
        {**NEED, "base": pk("base_a"), "recipient": "", "submission_id": str(uuid.uuid4())},
    ),
    Page(
        "admin:honour_certificatebatch_add",
        "head_office",
        "post",
        {"street": pk("street_a"), "kind": "level", "min_level": "1", "award_round": ""},
    ),
    # The news centre: head office for the whole district, street staff for their street.
    Page("admin:news_news_add", "head_office", "post", {**NEWS, "street": ""}),
    Page("admin:news_news_add", "staff_a", "post", NEWS),
    Page("admin:news_news_change", "staff_a", "post", NEWS, arg="news_item"),
]


@pytest.mark.parametrize("page", ADMIN_FORMS, ids=lambda p: p.url)
@FUZZ
@given(data=st.data())
def test_it_answers_admin_forms_below_500_and_refusals_change_nothing(client, world, page, data):
    values = spoil(data, _resolve(page.fields, world))
    _send(client, world, persona=page.persona, method="post", path=page.path(world), data=values)


@FUZZ
@given(data=st.data())
def test_it_answers_the_bulk_grant_below_500_and_refusals_change_nothing(client, world, data):
    rows = data.draw(
        st.lists(st.tuples(value(id_number_of(world.elder)), value("2.5")), min_size=1, max_size=3)
    )
    csv = "".join(f"{number},{hours}\n" for number, hours in rows)
    reason = data.draw(value("春节慰问"))
    _send(
        client,
        world,
        persona="head_office",
        method="post",
        path=reverse("admin:ledger_account_bulk_grant"),
        data={
            "batch_id": str(uuid.uuid4()),
            "district": str(world.district.pk),
            "reason": reason,
            "file": SimpleUploadedFile("g.csv", csv.encode("utf-8", "replace")),
        },
    )


@FUZZ
@given(object_id=value("1"), version_id=value("1"), label=st.sampled_from(ADMIN_LISTS))
def test_it_answers_admin_object_urls_below_500(client, world, object_id, version_id, label):
    base = reverse("admin:{}_{}_changelist".format(*label.split(".")))
    obj, version = quote(object_id, safe=""), quote(version_id, safe="")
    for path in (f"{obj}/change/", f"{obj}/history/", f"{obj}/history/{version}/"):
        _send(client, world, persona=_admin_persona(label), method="get", path=base + path, data={})


# The admin's own pages of one object: method, the list's model and the object in the World.
OBJECT_PAGES = {
    "admin:news_news_image": ("get", "news.news", "news_item", "picture/"),
    "admin:notices_delivery_resend": ("post", "notices.delivery", "failed_delivery", "resend/"),
}


@pytest.mark.parametrize("name", sorted(OBJECT_PAGES))
@FUZZ
@given(data=st.data())
def test_it_answers_admin_object_pages_below_500_and_refusals_change_nothing(
    client, world, name, data
):
    method, label, attr, suffix = OBJECT_PAGES[name]
    object_id = data.draw(value(str(getattr(world, attr).pk)))
    persona = data.draw(st.sampled_from(["head_office", "staff_a", "staff_b"]))
    base = reverse("admin:{}_{}_changelist".format(*label.split(".")))
    path = f"{base}{quote(object_id, safe='')}/{suffix}"
    _send(client, world, persona=persona, method=method, path=path, data={})


@FUZZ
@given(data=st.data())
def test_it_answers_opening_a_message_below_500_and_anothers_changes_nothing(client, world, data):
    """The message's pk: the reader's own marks it read, anything else is a 404."""
    own = world.notes[1]
    pk_text = data.draw(value(str(data.draw(st.sampled_from([own, world.others_note])).pk)))
    path = reverse("notices:read", args=[0]).replace("/0/", f"/{quote(pk_text, safe='')}/")
    _send(
        client,
        world,
        persona="volunteer",
        method="post",
        path=path,
        data={},
        may_change=pk_text == str(own.pk),
    )


WECHAT_PENDING = {  # what WeChat told of a login not yet linked (accounts.wechat_mp.flows)
    "openid": "o-fuzz-new",
    "unionid": "u-fuzz",
    "nickname": "新朋友",
    "headimgurl": "https://thirdwx.qlogo.cn/mmopen/fuzz/132",
}


@FUZZ
@given(data=st.data())
def test_it_answers_the_wechat_pages_below_500_and_refusals_change_nothing(
    client, world, settings, data
):
    """Linking the WeChat waiting in the session (its details as WeChat sent them, hostile
    too) and unlinking, by a member with or without a WeChat linked already."""
    wechat_on(settings)
    persona = data.draw(st.sampled_from(["volunteer", "wechat_volunteer"]))
    url, method = data.draw(
        st.sampled_from(
            [
                ("wechat_mp_finish", "get"),
                ("wechat_mp_finish", "post"),
                ("wechat_mp_unbind", "post"),
            ]
        )
    )
    pending = {k: v for k, v in spoil(data, WECHAT_PENDING).items() if v}
    _send(
        client,
        world,
        persona=persona,
        method=method,
        path=reverse(url),
        data={},
        session={"wechat_mp_pending": pending},
    )


@pytest.mark.postgres
@pytest.mark.parametrize(
    "key,text", [("openid", "a\x00b"), ("openid", "9" * 400), ("nickname", "a\x00b")]
)
def test_wechat_details_no_database_stores_are_refused_or_cleaned(
    client, world, settings, key, text
):
    """Details WeChat never sends (a NUL; an openid longer than SocialAccount.uid's 191
    characters): the link page refuses the openid and drops the NUL, below 500."""
    wechat_on(settings)
    _send(
        client,
        world,
        persona="volunteer",
        method="post",
        path=reverse("wechat_mp_finish"),
        data={},
        session={"wechat_mp_pending": {**WECHAT_PENDING, key: text}},
    )


def _our_url_names() -> set[str]:
    """Every named URL whose view is ours (allauth's and Django's own pages are theirs)."""
    names = set()

    def walk(patterns, prefix):
        for p in patterns:
            if hasattr(p, "url_patterns"):
                walk(p.url_patterns, f"{prefix}{p.namespace}:" if p.namespace else prefix)
            elif prefix == "admin:" and (p.name or "").endswith("history"):
                continue  # test_it_answers_admin_object_urls_below_500
            elif p.name and p.callback.__module__.split(".")[0] in OURS | {"timebank"}:
                names.add(prefix + p.name)

    walk(get_resolver().url_patterns, "")
    return names


def test_it_covers_every_page_of_ours():
    from tests.test_admin_queues_fuzz import DECISION_URLS  # approve/reject, fuzzed there

    fuzzed = {p.url for p in MEMBER_PAGES + ADMIN_FORMS} | {"admin:ledger_account_bulk_grant"}
    fuzzed |= set(OBJECT_PAGES) | {"notices:read", "wechat_mp_finish", "wechat_mp_unbind"}
    fuzzed |= {"admin:{}_{}_changelist".format(*label.split(".")) for label in ADMIN_LISTS}
    fuzzed |= DECISION_URLS
    assert _our_url_names() - fuzzed - NO_INPUT == set()
