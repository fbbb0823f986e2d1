import io

import pytest

from accounts import demo as accounts_demo
from accounts.models import Member, Relative, User
from accounts.selectors import is_family_of, provider_problems
from branches import demo as branches_demo
from branches.models import Branch, ServiceBase, StaffRole

pytestmark = pytest.mark.django_db


def _seed():
    out = io.StringIO()
    branches_demo.seed(stdout=out)
    accounts_demo.seed(stdout=out)


def test_the_demo_data_is_complete_and_idempotent(client):
    _seed()
    counts = [m.objects.count() for m in (Branch, ServiceBase, StaffRole, User, Member, Relative)]
    _seed()
    assert [
        m.objects.count() for m in (Branch, ServiceBase, StaffRole, User, Member, Relative)
    ] == counts
    assert Branch.objects.filter(kind="street").count() == 3
    for street in Branch.objects.filter(kind="street"):
        assert street.bases.filter(status="certified").count() == 2
    assert Member.objects.filter(role="volunteer").count() == 30
    assert Member.objects.filter(role="elder").count() == 30
    assert set(StaffRole.objects.values_list("role", flat=True)) == set(StaffRole.Role.values)
    volunteer = User.objects.get(phone="+8613700000001")
    assert provider_problems(volunteer) == []
    assert is_family_of(User.objects.get(username="family01"), User.objects.get(username="elder01"))
    # The documented logins work with the demo password.
    response = client.post("/auth/login/", {"login": "13900000001", "password": "demo-pass-2026"})
    assert response.status_code == 302
    assert client.get("/admin/accounts/member/").status_code == 200


def test_no_two_demo_people_share_a_name():
    _seed()
    names = list(User.objects.values_list("full_name", flat=True))
    assert len(names) == len(set(names))


def test_elder_01_sees_her_confirmed_son_on_her_page(client):
    _seed()
    elder = User.objects.get(username="elder01")
    son = User.objects.get(username="family01")
    assert elder.member.sex == "F" and son.member.sex == "M"
    assert Relative.objects.get(member=elder.member, relative=son).status == "confirmed"
    client.post("/auth/login/", {"login": "13600000001", "password": "demo-pass-2026"})
    page = client.get("/me/").content.decode()
    assert son.full_name in page
    assert "子女" in page
