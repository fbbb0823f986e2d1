"""A care-home place for 10,000 coins (BJ): the threshold to the half coin, one open
application at a time, the street's review and head office's decision with reasons, staff
applying for an elder without a phone; coins never move; under changning-2019 no page."""

from __future__ import annotations

import uuid

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from honour import admission
from honour.admission import AdmissionError
from honour.models import AdmissionApplication
from ledger import selectors as ledger_selectors
from ledger import services as ledger
from ledger.models import Transfer
from tests.factories import MemberFactory, ServiceBaseFactory
from tests.hostile import message_texts
from tests.ledger.test_admin import id_number_of
from tests.test_deploy import inline_code

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

PAGE = reverse("honour:admission")
ADMIN = reverse("admin:honour_admissionapplication_changelist")
APPLY = reverse("admin:honour_admissionapplication_apply")
TEN_THOUSAND = 10_000 * 60  # minutes


@pytest.fixture(autouse=True)
def beijing(policy_name):
    """Beijing has the 10,000-coin rule (and no balance cap: 600 hours under changning)."""
    policy_name("beijing-2022")


def fund(user, minutes: int) -> None:
    """Coins granted by the district (a grant is as good as earned for the threshold)."""
    ledger.transfer(
        transfer_id=uuid.uuid4(),
        debit=ledger_selectors.grant_pool(user.member.street.parent),
        credit=ledger_selectors.member_account(user),
        amount=minutes,
        code="grant",
        actor=None,
    )


def apply(member, actor=None, *, application_id=None, reason="独居，行动不便"):
    return admission.apply_for_admission(
        application_id=application_id or uuid.uuid4(),
        member=member,
        reason=reason,
        preferred_homes="天山养老院",
        actor=actor or member,
    )


@pytest.fixture
def rich_elder(elder):
    fund(elder, TEN_THOUSAND)
    return elder


def post_form(client, **extra):
    data = {"reason": "独居，行动不便", "application_id": str(uuid.uuid4()), **extra}
    return client.post(PAGE, data)


# --- the threshold -------------------------------------------------------------------------------


def test_exactly_ten_thousand_coins_may_apply(client, elder, base_a):
    fund(elder, TEN_THOUSAND)
    client.force_login(elder)
    page = client.get(PAGE)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="admission-form"' in html and "还差" not in html
    assert "10000 小时" in html
    assert inline_code(html) == []
    response = post_form(client, homes=[base_a.pk], other_homes="离女儿家近的")
    assert response.status_code == 302
    assert message_texts(response) == ["您的申请已提交给所在街道。"]
    application = AdmissionApplication.objects.get()
    assert (application.member, application.street, application.status) == (
        elder,
        elder.member.street,
        "submitted",
    )
    assert application.balance_minutes == TEN_THOUSAND
    assert application.preferred_homes == "天山养老院、离女儿家近的"
    assert application.applied_by == elder


def test_half_a_coin_short_may_not_apply(client, elder):
    fund(elder, TEN_THOUSAND - 30)  # 9,999.5 coins
    client.force_login(elder)
    html = client.get(PAGE).content.decode()
    assert "还差 0.5 个时间币才能申请。" in html
    assert 'data-testid="admission-form"' not in html
    refused = post_form(client)
    assert refused.status_code == 200
    assert "还差 0.5 个时间币才能申请。" in refused.content.decode()
    with pytest.raises(AdmissionError) as service:
        apply(elder)
    assert service.value.code == "not_enough"
    assert not AdmissionApplication.objects.exists()


def test_coins_do_not_move(rich_elder):
    account = ledger_selectors.member_account(rich_elder)
    transfers = Transfer.objects.count()
    apply(rich_elder)
    account.refresh_from_db()
    assert account.balance == TEN_THOUSAND
    assert Transfer.objects.count() == transfers


def test_only_the_posted_balance_counts(elder, district):
    """Coins held for an order are still the member's, but the threshold reads the posted
    balance: what the member holds now."""
    fund(elder, TEN_THOUSAND)
    pending = ledger.reserve(
        transfer_id=uuid.uuid4(),
        debit=ledger_selectors.member_account(elder),
        credit=ledger_selectors.escrow_account(district),
        amount=60,
        code="hold",
        actor=None,
    )
    assert pending.kind == "pending"
    assert apply(elder).balance_minutes == TEN_THOUSAND


# --- one open application ------------------------------------------------------------------------


def test_a_second_open_application_is_refused(client, rich_elder):
    apply(rich_elder)
    with pytest.raises(AdmissionError) as twice:
        apply(rich_elder, reason="再申请")
    assert twice.value.message == "已有一份申请正在等待审核。"
    client.force_login(rich_elder)
    html = client.get(PAGE).content.decode()
    assert 'data-testid="waiting"' in html and 'data-testid="admission-form"' not in html
    # The database refuses it too.
    with pytest.raises(IntegrityError), transaction.atomic():
        AdmissionApplication.objects.create(
            id=uuid.uuid4(),
            member=rich_elder,
            street=rich_elder.member.street,
            reason="x",
            balance_minutes=TEN_THOUSAND,
            applied_by=rich_elder,
        )
    assert AdmissionApplication.objects.count() == 1


def test_a_double_submit_is_one_application(rich_elder):
    form_id = uuid.uuid4()
    first = apply(rich_elder, application_id=form_id)
    assert apply(rich_elder, application_id=form_id) == first
    assert AdmissionApplication.objects.count() == 1


def test_after_a_refusal_the_member_may_apply_again(rich_elder, staff_a):
    refused = apply(rich_elder)
    admission.review_admission(application=refused, approve=False, actor=staff_a, reason="不符合")
    assert apply(rich_elder).status == "submitted"


def test_an_unverified_member_may_not_apply(client, street_a):
    member = MemberFactory(elder=True, street=street_a, status="applied")
    fund(member.user, TEN_THOUSAND)
    with pytest.raises(AdmissionError) as refused:
        apply(member.user)
    assert refused.value.code == "not_verified"
    client.force_login(member.user)
    html = client.get(PAGE).content.decode()
    assert "注册审核通过后才能申请。" in html and 'data-testid="admission-form"' not in html


def test_someone_else_may_not_apply_for_a_member(rich_elder, volunteer, staff_b):
    for someone in (volunteer, staff_b):
        with pytest.raises(AdmissionError) as refused:
            apply(rich_elder, someone)
        assert refused.value.code == "forbidden"


# --- the street reviews, head office decides -----------------------------------------------------


def test_the_street_then_head_office_decide_with_reasons(client, rich_elder, staff_a, head_office):
    application = apply(rich_elder)
    with pytest.raises(AdmissionError) as too_early:
        admission.decide_admission(
            application=application, approve=True, actor=head_office, reason="同意"
        )
    assert too_early.value.code == "not_waiting"
    client.force_login(staff_a)
    passed = client.post(
        ADMIN,
        {
            "action": "pass_on",
            "_selected_action": str(application.pk),
            "apply": "1",
            "reason": "情况属实",
        },
    )
    assert message_texts(passed) == ["已将1份申请报总行。"]
    client.force_login(head_office)
    approved = client.post(
        ADMIN,
        {
            "action": "approve",
            "_selected_action": str(application.pk),
            "apply": "1",
            "reason": "同意入住",
        },
    )
    assert message_texts(approved) == ["已批准1份申请。"]
    application.refresh_from_db()
    assert (application.status, application.street_reviewed_by, application.decided_by) == (
        "approved",
        staff_a,
        head_office,
    )
    reasons = [r.history_change_reason for r in application.history.order_by("history_date")]
    assert reasons == ["applied", "情况属实", "同意入住"]
    client.force_login(rich_elder)
    html = client.get(PAGE).content.decode()
    assert "已批准" in html and "街道分行：情况属实" in html and "区总行：同意入住" in html
    assert 'data-testid="admission-form"' in html  # decided: another application may follow


def test_street_staff_review_only_their_street(client, rich_elder, staff_b):
    application = apply(rich_elder)
    client.force_login(staff_b)
    assert rich_elder.full_name not in client.get(ADMIN).content.decode()
    change = reverse("admin:honour_admissionapplication_change", args=[application.pk])
    assert client.get(change).status_code == 404
    with pytest.raises(AdmissionError) as refused:
        admission.review_admission(
            application=application, approve=True, actor=staff_b, reason="同意"
        )
    assert refused.value.code == "forbidden"


def test_only_head_office_decides_and_only_once(rich_elder, staff_a, head_office):
    application = apply(rich_elder)
    admission.review_admission(application=application, approve=True, actor=staff_a, reason="属实")
    with pytest.raises(AdmissionError):
        admission.review_admission(
            application=application, approve=True, actor=staff_a, reason="再审"
        )
    with pytest.raises(AdmissionError) as not_theirs:
        admission.decide_admission(application=application, approve=True, actor=staff_a, reason="x")
    assert not_theirs.value.code == "forbidden"
    with pytest.raises(AdmissionError) as no_reason:
        admission.decide_admission(
            application=application, approve=False, actor=head_office, reason=" "
        )
    assert no_reason.value.code == "reason_required"
    admission.decide_admission(
        application=application, approve=False, actor=head_office, reason="床位已满"
    )
    application.refresh_from_db()
    assert (application.status, application.decision_reason) == ("rejected", "床位已满")


# --- staff apply for an elder without a phone ---------------------------------------------------


def test_an_advisor_applies_for_an_elder_without_a_phone(client, street_a, advisor_a, base_a):
    elder = MemberFactory(
        elder=True, street=street_a, user__phone=None, user__full_name="周无机"
    ).user
    fund(elder, TEN_THOUSAND + 60)
    ServiceBaseFactory(name="天山日托", street=base_a.street, kind="day_care")  # not a care home
    client.force_login(advisor_a)
    assert APPLY in client.get(ADMIN).content.decode()
    form = client.get(APPLY).context["form"]
    assert [b.name for b in form.fields["homes"].queryset] == ["天山养老院"]
    response = client.post(
        APPLY,
        {
            "application_id": str(uuid.uuid4()),
            "id_number": id_number_of(elder),
            "reason": "独居高龄，无人照料",
            "homes": [base_a.pk],
        },
    )
    assert response.status_code == 302
    application = AdmissionApplication.objects.get()
    assert (application.member, application.applied_by) == (elder, advisor_a)
    assert application.balance_minutes == TEN_THOUSAND + 60


def test_hongqiao_staff_cannot_apply_for_a_tianshan_elder(client, rich_elder, staff_b):
    client.force_login(staff_b)
    page = client.post(
        APPLY,
        {
            "application_id": str(uuid.uuid4()),
            "id_number": id_number_of(rich_elder),
            "reason": "x",
        },
    )
    assert page.status_code == 200
    assert "只有会员本人或其所在街道的工作人员可以申请。" in page.content.decode()
    assert not AdmissionApplication.objects.exists()


# --- changning-2019 has no such rule --------------------------------------------------------------


def test_under_changning_there_is_no_page_and_nothing_to_do(
    client, policy_name, elder, head_office, staff_a
):
    policy_name("changning-2019")
    client.force_login(elder)
    assert client.get(PAGE).status_code == 404
    with pytest.raises(AdmissionError) as refused:
        apply(elder)
    assert refused.value.code == "off"
    client.force_login(head_office)
    index = client.get(reverse("admin:index")).content.decode()
    assert ADMIN not in index
    client.force_login(staff_a)
    assert client.get(APPLY).status_code == 404


def test_the_page_needs_a_login_and_a_membership(client, outsider):
    assert client.get(PAGE).status_code == 302
    client.force_login(outsider)
    assert client.get(PAGE)["Location"] == reverse("accounts:profile")


def test_the_application_pages_open_for_each_role(
    client, rich_elder, staff_a, advisor_a, head_office, official
):
    application = apply(rich_elder)
    change = reverse("admin:honour_admissionapplication_change", args=[application.pk])
    history = reverse("admin:honour_admissionapplication_history", args=[application.pk])
    for user in (staff_a, advisor_a, head_office, official):
        client.force_login(user)
        for url in (ADMIN, change, history):
            page = client.get(url)
            assert page.status_code == 200, (user, url)
            assert inline_code(page.content.decode()) == [], url
            assert "张阿婆" in page.content.decode()
    client.force_login(head_office)
    assert APPLY not in client.get(ADMIN).content.decode()  # head office decides, not applies
    assert client.get(APPLY).status_code == 404


def test_the_form_refuses_invisible_characters_and_overlong_reasons(client, rich_elder):
    client.force_login(rich_elder)
    for reason, problem in (
        ("独居\x1b", "请删除文字中看不见的控制字符。"),
        ("长" * 2001, "2000"),
    ):
        page = post_form(client, reason=reason)
        assert page.status_code == 200
        assert problem in page.content.decode()
    assert not AdmissionApplication.objects.exists()
