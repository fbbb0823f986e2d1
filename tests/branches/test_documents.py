"""Service-base licences: private storage, random names, a scoped download view."""

import os

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from branches.models import ServiceBase
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def applicant():
    return UserFactory(full_name="刘主任")


@pytest.fixture
def applied_base(client, street_a, applicant):
    """A base in 天山, applied for through the public form with a licence scan."""
    client.force_login(applicant)
    pdf = SimpleUploadedFile(
        "新泾养老院-营业执照-刘主任.pdf", b"%PDF-1.4 test", content_type="application/pdf"
    )
    response = client.post(
        reverse("branches:apply_for_base"),
        {
            "name": "新泾日间照料中心",
            "kind": "day_care",
            "street": street_a.pk,
            "address": "天山路100号",
            "licence_number": "沪民养2026-001",
            "contact_name": "刘主任",
            "contact_phone": "13811112222",
            "document": pdf,
        },
    )
    assert response.status_code == 302
    client.logout()
    return ServiceBase.objects.get()


def _url(base):
    return reverse("branches:base_document", args=[base.pk])


def test_it_stores_the_licence_privately_under_a_random_name(applied_base):
    name = applied_base.document.name
    assert name.startswith("base-documents/") and name.endswith(".pdf")
    assert "营业执照" not in name and "刘主任" not in name
    assert applied_base.document.path.startswith(os.path.abspath(settings.PRIVATE_MEDIA_ROOT))


def test_the_applicant_and_staff_of_the_street_see_the_licence(
    client, applied_base, applicant, staff_a, head_office
):
    for user in (applicant, staff_a, head_office):
        client.force_login(user)
        response = client.get(_url(applied_base))
        assert response.status_code == 200, user
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"].startswith("inline")
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Cache-Control"] == "private, no-store"
        assert b"".join(response.streaming_content).startswith(b"%PDF")


def test_staff_of_another_street_and_outsiders_get_404(
    client, applied_base, staff_b, outsider, base_staff_a
):
    # base_staff_a works at another base of the same street: not theirs either.
    for user in (staff_b, outsider, base_staff_a):
        client.force_login(user)
        assert client.get(_url(applied_base)).status_code == 404, user


def test_anonymous_visitors_are_sent_to_log_in(client, applied_base):
    response = client.get(_url(applied_base))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_a_base_without_a_document_is_a_404(client, base_a, staff_a):
    client.force_login(staff_a)
    assert client.get(_url(base_a)).status_code == 404


def test_the_admin_links_to_the_download_view(client, applied_base, staff_a):
    client.force_login(staff_a)
    page = client.get(reverse("admin:branches_servicebase_change", args=[applied_base.pk]))
    body = page.content.decode()
    assert _url(applied_base) in body
    assert settings.MEDIA_URL + "base-documents" not in body
