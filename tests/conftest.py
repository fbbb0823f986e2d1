import copy
import uuid

import pytest
from django.db import connection


def pytest_collection_modifyitems(config, items):
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(
        reason="needs PostgreSQL (set DATABASE_URL, as .ci/run does): "
        "row locks, triggers and CHECK constraints are not tested on SQLite"
    )
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _own_cache_namespace(settings):
    """Each test gets its own key prefix in the same real cache: rate limits and cached pages
    (the order hall) neither leak between tests nor collide with parallel workers."""
    caches = copy.deepcopy(settings.CACHES)
    prefix = caches["default"].get("KEY_PREFIX", "")
    caches["default"]["KEY_PREFIX"] = f"{prefix}-{uuid.uuid4().hex[:12]}"
    settings.CACHES = caches


def session_queries() -> int:
    """Query ceilings are set on production's stack, whose sessions are read from Redis;
    without Redis (``make test`` on SQLite) each request reads its session with a query."""
    from django.conf import settings

    return 0 if settings.SESSION_ENGINE.endswith("cached_db") else 1


@pytest.fixture
def policy_name(settings):
    """Switch the active policy preset for one test: ``policy_name("beijing-2022")``."""

    def use(name: str) -> None:
        settings.TIMEBANK_POLICY = name

    return use


# Personas (tests/factories.py). Users are returned; members hang off ``user.member``.
# The organisation: 上海市 > 长宁区 (head office) > 天山 (street_a), 虹桥 (street_b).


@pytest.fixture
def city(db):
    from tests.factories import BranchFactory

    return BranchFactory(name="上海市", code="shanghai", kind="city")


@pytest.fixture
def district(city):
    from tests.factories import BranchFactory

    return BranchFactory(name="长宁区", code="changning", kind="district", parent=city)


@pytest.fixture
def street_a(district):
    from tests.factories import BranchFactory

    return BranchFactory(name="天山", code="tianshan", kind="street", parent=district)


@pytest.fixture
def street_b(district):
    from tests.factories import BranchFactory

    return BranchFactory(name="虹桥", code="hongqiao", kind="street", parent=district)


@pytest.fixture
def base_a(street_a):
    from tests.factories import ServiceBaseFactory

    return ServiceBaseFactory(name="天山养老院", street=street_a)


@pytest.fixture
def base_b(street_b):
    from tests.factories import ServiceBaseFactory

    return ServiceBaseFactory(name="虹桥日间照料中心", street=street_b, kind="day_care")


def _staff(role: str, branch, *, name: str, base=None):
    from tests.factories import StaffRoleFactory, UserFactory

    user = UserFactory(full_name=name)
    StaffRoleFactory(user=user, role=role, branch=branch, base=base)
    user.refresh_from_db()
    return user


@pytest.fixture
def staff_a(street_a):
    return _staff("street_staff", street_a, name="天山分行员工")


@pytest.fixture
def staff_b(street_b):
    return _staff("street_staff", street_b, name="虹桥分行员工")


@pytest.fixture
def advisor_a(street_a):
    return _staff("advisor", street_a, name="天山养老顾问")


@pytest.fixture
def head_office(district):
    return _staff("head_office", district, name="长宁总行员工")


@pytest.fixture
def official(district):
    return _staff("official", district, name="长宁区民政局")


@pytest.fixture
def base_staff_a(base_a):
    return _staff("base_staff", base_a.street, name="天山养老院员工", base=base_a)


@pytest.fixture
def volunteer(street_a):
    """Verified, trained and insured volunteer of 天山, aged 65: may grab orders."""
    from tests.factories import MemberFactory

    return MemberFactory(volunteer=True, street=street_a, user__full_name="王志愿").user


@pytest.fixture
def volunteer2(street_a):
    from tests.factories import MemberFactory

    return MemberFactory(volunteer=True, street=street_a, sex="F", user__full_name="李志愿").user


@pytest.fixture
def elder(street_a):
    """Verified elder of 天山, aged 80, care-needs assessment level 3."""
    from tests.factories import MemberFactory

    return MemberFactory(elder=True, street=street_a, sex="F", user__full_name="张阿婆").user


@pytest.fixture
def family(street_a, elder):
    """A confirmed relative of ``elder`` (the elder is their parent)."""
    from tests.factories import MemberFactory, RelativeFactory

    member = MemberFactory(family=True, street=street_a, user__full_name="张家属")
    RelativeFactory(member=member, relative=elder, relation="parent")
    return member.user


@pytest.fixture
def outsider(db):
    from tests.factories import UserFactory

    return UserFactory(full_name="路人甲")
