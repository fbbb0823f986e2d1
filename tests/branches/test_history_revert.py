"""Admin history pages show old versions and never restore one: a restore would bypass the
services (approvals, the ledger), so a POST to a version's page is refused for everyone."""

import pytest
from django.urls import reverse

from branches.models import ServiceBase

pytestmark = pytest.mark.django_db


def test_posting_an_old_version_restores_nothing(client, base_a, head_office):
    base_a.status = ServiceBase.Status.SUSPENDED
    base_a.status_reason = "整改"
    base_a.save()
    old = base_a.history.earliest()
    assert old.status != ServiceBase.Status.SUSPENDED
    client.force_login(head_office)
    url = reverse("admin:branches_servicebase_simple_history", args=[base_a.pk, old.pk])

    page = client.get(url)
    assert page.status_code == 200
    assert b'name="_save"' not in page.content  # no restore button

    fields = {f: getattr(old, f) for f in ("name", "kind", "address", "licence_number")}
    response = client.post(url, {**fields, "street": old.street_id, "status": old.status})
    assert response.status_code == 403
    base_a.refresh_from_db()
    assert base_a.status == ServiceBase.Status.SUSPENDED
