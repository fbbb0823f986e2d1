"""factory_boy factories shared by every app's tests (see tests/conftest.py for personas)."""

from __future__ import annotations

from datetime import date, timedelta

import factory
from django.utils import timezone

from accounts import idnumbers
from accounts.models import Insurance, IntegrityRecord, Member, Relative, Training, User
from branches.models import Branch, ServiceBase, StaffRole

PASSWORD = "demo-pass-2026"


def years_ago(years: int, *, days: int = 0) -> date:
    """The birth date of someone who is ``years`` old today (plus ``days`` older)."""
    today = timezone.localdate()
    try:
        day = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        day = today.replace(year=today.year - years, day=28)
    return day - timedelta(days=days)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    phone = factory.Sequence(lambda n: f"+86137{n:08d}")
    phone_verified = True
    full_name = factory.Faker("name", locale="zh_CN")
    password = factory.django.Password(PASSWORD)


class BranchFactory(factory.django.DjangoModelFactory):
    """A street by default; ``BranchFactory(kind="district", parent=city)`` for others."""

    class Meta:
        model = Branch
        django_get_or_create = ("code",)

    name = factory.Sequence(lambda n: f"街道{n}")
    kind = Branch.Kind.STREET
    code = factory.Sequence(lambda n: f"branch-{n}")
    parent = None


class ServiceBaseFactory(factory.django.DjangoModelFactory):
    """A certified care home by default."""

    class Meta:
        model = ServiceBase

    name = factory.Sequence(lambda n: f"第{n}养老院")
    kind = ServiceBase.Kind.CARE_HOME
    street = factory.SubFactory(BranchFactory)
    address = factory.Sequence(lambda n: f"长宁路{n}号")
    licence_number = factory.Sequence(lambda n: f"LIC-{n:06d}")
    contact_name = factory.Faker("name", locale="zh_CN")
    contact_phone = factory.Sequence(lambda n: f"+86136{n:08d}")
    status = ServiceBase.Status.CERTIFIED
    certified_at = factory.LazyFunction(timezone.now)


class StaffRoleFactory(factory.django.DjangoModelFactory):
    """Creates the role through ``branches.services.assign_staff_role`` so the user gets
    ``is_staff`` and the role's admin permissions, exactly as in production."""

    class Meta:
        model = StaffRole

    user = factory.SubFactory(UserFactory)
    role = StaffRole.Role.STREET_STAFF
    branch = factory.SubFactory(BranchFactory)
    base = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from branches.services import assign_staff_role

        return assign_staff_role(**kwargs)


class MemberFactory(factory.django.DjangoModelFactory):
    """A verified member. Traits: ``volunteer`` (aged 65, trained and insured: may grab),
    ``elder`` (aged 80, assessment level 3), ``family`` (aged 45).
    Pass ``id_number="..."`` to choose the ID number; birth date and sex follow it."""

    class Meta:
        model = Member
        exclude = ("id_number", "serial")
        skip_postgeneration_save = True

    class Params:
        serial = factory.Sequence(lambda n: n)
        volunteer = factory.Trait(
            role=Member.Role.VOLUNTEER,
            birth_date=factory.LazyFunction(lambda: years_ago(65)),
            training=factory.RelatedFactory(
                "tests.factories.TrainingFactory", factory_related_name="member"
            ),
            insurance=factory.RelatedFactory(
                "tests.factories.InsuranceFactory", factory_related_name="member"
            ),
        )
        elder = factory.Trait(
            role=Member.Role.ELDER,
            birth_date=factory.LazyFunction(lambda: years_ago(80)),
            assessment_level=3,
        )
        family = factory.Trait(
            role=Member.Role.FAMILY,
            birth_date=factory.LazyFunction(lambda: years_ago(45)),
        )

    user = factory.SubFactory(UserFactory)
    role = Member.Role.VOLUNTEER
    capacity = factory.LazyAttribute(lambda o: Member.ROLE_CAPACITY[o.role])
    street = factory.SubFactory(BranchFactory)
    status = Member.Status.VERIFIED
    sex = Member.Sex.MALE
    birth_date = factory.LazyFunction(lambda: years_ago(65))
    id_number = factory.LazyAttribute(
        lambda o: idnumbers.make_id_number(birth_date=o.birth_date, sex=o.sex, serial=o.serial)
    )
    id_number_encrypted = factory.LazyAttribute(lambda o: idnumbers.encrypt(o.id_number))
    id_number_hash = factory.LazyAttribute(lambda o: idnumbers.keyed_hash(o.id_number))
    id_number_masked = factory.LazyAttribute(lambda o: idnumbers.mask(o.id_number))
    emergency_contact_name = factory.Faker("name", locale="zh_CN")
    emergency_contact_phone = factory.Sequence(lambda n: f"+86135{n:08d}")


class TrainingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Training

    member = factory.SubFactory(MemberFactory)
    course = "为老服务志愿者岗前培训"
    completed_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=30))


class InsuranceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Insurance

    member = factory.SubFactory(MemberFactory)
    insurer = "中国人民财产保险"
    policy_number = factory.Sequence(lambda n: f"PICC-{n:08d}")
    valid_from = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=30))
    valid_until = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=335))


class RelativeFactory(factory.django.DjangoModelFactory):
    """A confirmed link: ``relative`` is ``relation`` of ``member.user``."""

    class Meta:
        model = Relative

    member = factory.SubFactory(MemberFactory, family=True)
    relative = factory.SubFactory(UserFactory)
    relation = Relative.Relation.PARENT
    status = Relative.Status.CONFIRMED
    reviewed_at = factory.LazyFunction(timezone.now)


class IntegrityRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IntegrityRecord

    member = factory.SubFactory(MemberFactory, volunteer=True)
    kind = IntegrityRecord.Kind.NO_SHOW
    reference = factory.Sequence(lambda n: f"test:{n}")
    occurred_at = factory.LazyFunction(timezone.now)
