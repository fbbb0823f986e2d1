import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from accounts import idnumbers, services
from accounts.models import Member, Relative
from accounts.selectors import is_family_of, provider_problems
from tests.factories import (
    InsuranceFactory,
    IntegrityRecordFactory,
    MemberFactory,
    TrainingFactory,
    UserFactory,
    years_ago,
)

pytestmark = pytest.mark.django_db


def _id(age, sex="M", serial=1):
    return idnumbers.make_id_number(birth_date=years_ago(age), sex=sex, serial=serial)


def _png(name="id.png"):
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def test_it_registers_a_volunteer_with_encrypted_masked_id(street_a):
    user = UserFactory()
    number = _id(65)
    member = services.register_member(
        user=user,
        role="volunteer",
        street=street_a,
        full_name=" 陈志愿 ",
        id_number=number,
        emergency_contact_phone="13912345678",
        id_document_front=_png(),
    )
    member.refresh_from_db()
    user.refresh_from_db()
    assert user.full_name == "陈志愿"
    assert member.status == Member.Status.APPLIED
    assert member.id_number_masked == number[:4] + "*" * 10 + number[-4:]
    assert number not in member.id_number_encrypted
    assert idnumbers.decrypt(member.id_number_encrypted) == number
    assert member.birth_date == years_ago(65) and member.sex == "M"
    assert member.id_document_front.name.startswith("id-documents/")
    assert member.history.first().history_user == user


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"id_number": "110105194912310021"}, "id_number"),  # checksum
        ({"id_number": _id(59)}, "id_number"),  # too young
        ({"id_number": _id(71)}, "id_number"),  # too old
        ({"emergency_contact_phone": "12345"}, "emergency_contact_phone"),
        ({"full_name": "  "}, "full_name"),
        ({"id_document_front": SimpleUploadedFile("x.png", b"not an image")}, "id_document_front"),
    ],
)
def test_it_refuses_bad_registrations_and_saves_nothing(street_a, kwargs, field):
    user = UserFactory(full_name="")
    args = {"full_name": "陈志愿", "id_number": _id(65)} | kwargs
    with pytest.raises(services.AccountsError) as exc:
        services.register_member(user=user, role="volunteer", street=street_a, **args)
    assert exc.value.field == field
    assert not Member.objects.exists()
    user.refresh_from_db()
    assert user.full_name == ""


def test_it_refuses_an_oversize_upload(street_a, monkeypatch):
    monkeypatch.setattr("accounts.uploads.MAX_DOCUMENT_BYTES", 10)
    with pytest.raises(services.AccountsError) as exc:
        services.register_member(
            user=UserFactory(),
            role="volunteer",
            street=street_a,
            full_name="甲",
            id_number=_id(65),
            id_document_front=_png(),
        )
    assert exc.value.field == "id_document_front"
    assert not Member.objects.exists()


def test_it_refuses_a_duplicate_id_number(street_a, street_b):
    number = _id(66)
    services.register_member(
        user=UserFactory(), role="volunteer", street=street_a, full_name="甲", id_number=number
    )
    with pytest.raises(services.AccountsError) as exc:
        services.register_member(
            user=UserFactory(),
            role="elder",
            street=street_b,
            full_name="乙",
            id_number=number.lower(),
        )
    assert exc.value.field == "id_number"
    assert Member.objects.count() == 1


def test_it_accepts_a_woman_of_50_and_refuses_a_second_registration(street_a):
    user = UserFactory()
    services.register_member(
        user=user, role="volunteer", street=street_a, full_name="甲", id_number=_id(50, "F")
    )
    with pytest.raises(services.AccountsError):
        services.register_member(
            user=user, role="family", street=street_a, full_name="甲", id_number=_id(40)
        )


def test_the_review_flow_makes_an_active_provider_only_when_trained_and_insured(
    street_a, staff_a, staff_b
):
    user = UserFactory()
    member = services.register_member(
        user=user, role="volunteer", street=street_a, full_name="甲", id_number=_id(62)
    )
    assert any("approved" in p or "审核" in p for p in provider_problems(user))
    with pytest.raises(services.AccountsError):
        services.review_member(member=member, approve=True, actor=staff_b)
    with pytest.raises(services.AccountsError):
        services.review_member(member=member, approve=False, reason=" ", actor=staff_a)
    services.review_member(member=member, approve=False, reason="照片不清楚", actor=staff_a)
    member.refresh_from_db()
    assert member.status == Member.Status.REJECTED and member.review_reason == "照片不清楚"
    services.review_member(member=member, approve=True, actor=staff_a)
    member.refresh_from_db()
    assert member.status == Member.Status.VERIFIED and member.reviewed_by == staff_a
    assert member.history.first().history_user == staff_a
    assert len(provider_problems(user)) == 2  # no training, no insurance
    today = timezone.localdate()
    services.record_training(member=member, course="岗前培训", completed_on=today, actor=staff_a)
    assert len(provider_problems(user)) == 1
    services.record_insurance(
        member=member,
        policy_number="P-1",
        valid_from=today - timedelta(days=365),
        valid_until=today - timedelta(days=1),
        actor=staff_a,
    )
    assert len(provider_problems(user)) == 1  # expired yesterday
    services.record_insurance(
        member=member, policy_number="P-2", valid_from=today, valid_until=today, actor=staff_a
    )
    assert provider_problems(user) == []


def test_it_needs_an_assessment_level_to_approve_an_elder(street_a, staff_a):
    member = services.register_member(
        user=UserFactory(), role="elder", street=street_a, full_name="老人", id_number=_id(82)
    )
    with pytest.raises(services.AccountsError):
        services.review_member(member=member, approve=True, actor=staff_a)
    services.set_assessment_level(member=member, level=2, actor=staff_a)
    assert services.review_member(member=member, approve=True, actor=staff_a).is_verified


def test_an_advisor_registers_an_elder_on_their_behalf(street_a, street_b, advisor_a):
    member = services.register_elder_on_behalf(
        actor=advisor_a,
        street=street_a,
        full_name="独居老人",
        id_number=_id(85, "F"),
        assessment_level=3,
    )
    assert member.registered_by == advisor_a
    assert member.user.phone is None and not member.user.has_usable_password()
    record = member.history.first()
    assert record.history_user == advisor_a and record.history_change_reason.startswith("proxy")
    with pytest.raises(services.AccountsError):
        services.register_elder_on_behalf(
            actor=advisor_a, street=street_b, full_name="别处老人", id_number=_id(85, "F", 2)
        )


def test_it_suspends_grabbing_after_too_many_strikes(volunteer, settings):
    from timebank.policy import get_policy

    limit = get_policy().integrity_strikes_limit
    member = volunteer.member
    for _ in range(limit - 1):
        IntegrityRecordFactory(member=member)
    assert provider_problems(volunteer) == []
    old = timezone.now() - timedelta(days=get_policy().integrity_suspension_days + 1)
    IntegrityRecordFactory(member=member, occurred_at=old)  # outside the window
    assert provider_problems(volunteer) == []
    services.record_integrity_event(member=member, kind="no_show", reference="place:1")
    services.record_integrity_event(member=member, kind="no_show", reference="place:1")
    assert member.integrity.count() == limit + 1 - 1 + 1  # the repeat was not recorded twice
    assert len(provider_problems(volunteer)) == 1


def test_a_strike_counts_from_the_first_moment_of_the_window(volunteer, monkeypatch):
    """The window is [now - suspension days, now]: a strike on its first instant counts, one
    a second older does not (the hall and the grab read this in one query)."""
    from timebank.policy import get_policy

    now = timezone.now().replace(microsecond=0)
    monkeypatch.setattr(timezone, "now", lambda: now)
    policy = get_policy()
    start = now - timedelta(days=policy.integrity_suspension_days)
    member = volunteer.member
    for _ in range(policy.integrity_strikes_limit - 1):
        IntegrityRecordFactory(member=member, occurred_at=now - timedelta(hours=1))
    IntegrityRecordFactory(member=member, occurred_at=start - timedelta(seconds=1))
    assert provider_problems(volunteer) == []
    IntegrityRecordFactory(member=member, occurred_at=start)
    assert len(provider_problems(volunteer)) == 1


def test_relatives_are_declared_and_confirmed_by_the_street(street_a, staff_a, staff_b, elder):
    child = MemberFactory(family=True, street=street_a).user
    link = services.link_relative(
        member=child.member,
        relative_phone=str(elder.phone),
        relation="parent",
        proof=_png("proof.png"),
        actor=child,
    )
    assert link.status == Relative.Status.PENDING
    assert not is_family_of(child, elder)
    with pytest.raises(services.AccountsError):
        services.review_relative(link=link, approve=True, actor=staff_b)
    services.review_relative(link=link, approve=True, actor=staff_a)
    assert is_family_of(child, elder) and is_family_of(elder, child)
    with pytest.raises(services.AccountsError):  # only once
        services.link_relative(
            member=child.member, relative_phone=str(elder.phone), relation="parent", actor=child
        )


@pytest.mark.parametrize(("phone", "relation"), [("abc", "parent"), (None, "cousin")])
def test_it_refuses_bad_relative_links(street_a, elder, phone, relation):
    child = MemberFactory(family=True, street=street_a).user
    with pytest.raises(services.AccountsError):
        services.link_relative(
            member=child.member,
            relative_phone=phone or str(elder.phone),
            relation=relation,
            actor=child,
        )
    assert not Relative.objects.exists()


def test_a_rejected_relative_link_does_not_count(street_a, staff_a, elder):
    child = MemberFactory(family=True, street=street_a).user
    link = services.link_relative(
        member=child.member, relative_phone=str(elder.phone), relation="parent", actor=child
    )
    services.review_relative(link=link, approve=False, reason="证明不符", actor=staff_a)
    assert not is_family_of(child, elder)


def test_training_and_insurance_factories_make_a_provider(street_a):
    member = MemberFactory(street=street_a)  # default volunteer without records
    assert len(provider_problems(member.user)) == 2
    TrainingFactory(member=member)
    InsuranceFactory(member=member)
    assert provider_problems(member.user) == []


def test_a_declared_number_nobody_uses_is_recorded_and_confirmed_once_they_register(
    street_a, staff_a
):
    child = MemberFactory(family=True, street=street_a).user
    link = services.link_relative(
        member=child.member, relative_phone="13000000000", relation="parent", actor=child
    )
    assert link.relative is None and link.status == Relative.Status.PENDING
    with pytest.raises(services.AccountsError):  # declared twice
        services.link_relative(
            member=child.member, relative_phone="130 0000 0000", relation="parent", actor=child
        )
    with pytest.raises(services.AccountsError):  # nobody to confirm yet
        services.review_relative(link=link, approve=True, actor=staff_a)
    parent = UserFactory(phone="+8613000000000")
    link = services.review_relative(link=link, approve=True, actor=staff_a)
    assert link.relative == parent and is_family_of(child, parent)


def test_nobody_links_themself(street_a):
    child = MemberFactory(family=True, street=street_a).user
    with pytest.raises(services.AccountsError):
        services.link_relative(
            member=child.member, relative_phone=str(child.phone), relation="parent", actor=child
        )
    assert not Relative.objects.exists()
