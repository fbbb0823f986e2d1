import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from branches import services
from branches.models import ServiceBase
from tests.factories import ServiceBaseFactory, UserFactory

pytestmark = pytest.mark.django_db


def _application(street, **extra):
    return {
        "name": "新泾日间照料中心",
        "kind": "day_care",
        "street": street.pk,
        "address": "天山路100号",
        "licence_number": "沪民养2026-001",
        "contact_name": "刘主任",
        "contact_phone": "13811112222",
    } | extra


def test_an_institution_applies_the_street_approves_head_office_certifies(
    client, street_a, staff_a, staff_b, head_office
):
    applicant = UserFactory()
    client.force_login(applicant)
    pdf = SimpleUploadedFile("licence.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    response = client.post(reverse("branches:apply_for_base"), _application(street_a, document=pdf))
    assert response.status_code == 302
    base = ServiceBase.objects.get()
    assert base.status == ServiceBase.Status.APPLIED and base.applied_by == applicant
    assert "新泾日间照料中心" in client.get(reverse("branches:bases")).content.decode()

    with pytest.raises(services.OrganisationError):
        services.certify_base(base=base, actor=head_office)  # street first
    with pytest.raises(services.OrganisationError):
        services.review_base(base=base, approve=True, actor=staff_b)  # wrong street
    services.review_base(base=base, approve=True, actor=staff_a)
    with pytest.raises(services.OrganisationError):
        services.certify_base(base=base, actor=staff_a)  # not head office
    assert not applicant.staff_roles.exists()
    base = services.certify_base(base=base, actor=head_office)
    assert base.is_certified and base.certified_at is not None
    # Who applied now runs the base: its staff, without a superuser adding them.
    assert applicant.staff_roles.filter(role="base_staff", base=base).exists()

    with pytest.raises(services.OrganisationError):
        services.suspend_base(base=base, reason="", actor=head_office)
    base = services.suspend_base(base=base, reason="消防检查未通过", actor=staff_a)
    assert base.status == ServiceBase.Status.SUSPENDED and base.status_reason == "消防检查未通过"
    assert services.reinstate_base(base=base, actor=head_office).is_certified
    assert base.history.count() >= 5


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"contact_phone": "123"}, "contact_phone"),
        ({"document": SimpleUploadedFile("x.exe", b"MZ....")}, "document"),
        ({"document": SimpleUploadedFile("x.pdf", b"MZ not a pdf")}, "document"),
        ({"kind": "hotel"}, "kind"),
    ],
)
def test_bad_applications_get_a_clear_error(client, street_a, extra, field):
    client.force_login(UserFactory())
    response = client.post(reverse("branches:apply_for_base"), _application(street_a, **extra))
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert not ServiceBase.objects.exists()


def test_a_rejection_needs_a_reason(street_a, staff_a):
    base = ServiceBaseFactory(street=street_a, status="applied")
    with pytest.raises(services.OrganisationError):
        services.review_base(base=base, approve=False, reason=" ", actor=staff_a)
    base = services.review_base(base=base, approve=False, reason="资质不全", actor=staff_a)
    assert base.status == ServiceBase.Status.REJECTED


def test_base_admin_is_scoped_per_street(
    client, staff_a, head_office, base_a, base_b, django_assert_max_num_queries
):
    client.force_login(staff_a)
    url = reverse("admin:branches_servicebase_changelist")
    body = client.get(url).content.decode()
    assert base_a.name in body and base_b.name not in body
    change_b = reverse("admin:branches_servicebase_change", args=[base_b.pk])
    assert client.get(change_b).status_code == 404
    history_b = reverse("admin:branches_servicebase_history", args=[base_b.pk])
    assert client.get(history_b).status_code == 404
    client.force_login(head_office)
    ServiceBaseFactory.create_batch(10, street=base_b.street)
    with django_assert_max_num_queries(15):
        body = client.get(url).content.decode()
    assert base_a.name in body and base_b.name in body


def test_admin_actions_review_and_certify(client, street_a, staff_a, head_office):
    base = ServiceBaseFactory(street=street_a, status="applied")
    url = reverse("admin:branches_servicebase_changelist")
    client.force_login(staff_a)
    client.post(url, {"action": "street_approve", "_selected_action": [base.pk]})
    client.post(url, {"action": "certify", "_selected_action": [base.pk]})  # refused
    base.refresh_from_db()
    assert base.status == ServiceBase.Status.STREET_APPROVED
    client.force_login(head_office)
    client.post(url, {"action": "certify", "_selected_action": [base.pk]})
    base.refresh_from_db()
    assert base.is_certified


def test_staff_roles_give_admin_access(street_a, district, base_a):
    from branches.services import OrganisationError, assign_staff_role, remove_staff_role

    user = UserFactory()
    role = assign_staff_role(user=user, role="street_staff", branch=street_a)
    user.refresh_from_db()
    assert user.is_staff and user.has_perm("accounts.change_member")
    with pytest.raises(OrganisationError):
        assign_staff_role(user=user, role="head_office", branch=street_a)
    remove_staff_role(staff_role=role, actor=None)
    user = type(user).objects.get(pk=user.pk)
    assert not user.is_staff and not user.has_perm("accounts.change_member")
    base_staff = UserFactory()
    assign_staff_role(user=base_staff, role="base_staff", branch=district, base=base_a)
    assert base_staff.staff_roles.get().branch == street_a


def test_street_staff_edit_their_own_streets_bases_only(client, base_a, base_b, staff_a):
    client.force_login(staff_a)
    url = reverse("admin:branches_servicebase_change", args=[base_a.pk])
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields}
    data["contact_phone"] = "13822223333"
    data["address"] = "天山路200号"
    saved = client.post(url, data)
    assert saved.status_code == 302, saved.context["adminform"].form.errors
    base_a.refresh_from_db()
    assert base_a.address == "天山路200号"
    assert base_a.history.first().history_user == staff_a
    other = reverse("admin:branches_servicebase_change", args=[base_b.pk])
    assert client.get(other).status_code == 404
