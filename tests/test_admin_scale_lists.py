"""Admin lists link each row to its change page from one ``reverse()`` per list
(``branches.adminutils.QuickLinksChangeList``): the links must be the ones Django writes,
filters kept, on every kind of list (members, coin transfers)."""

import uuid

import pytest
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.urls import reverse

from accounts.models import Member
from ledger import selectors, services
from ledger.models import Transfer
from tests.factories import MemberFactory


def _djangos_link(model, pk, preserved_filters: str = "") -> str:
    """The link Django's own ChangeList and ``items_for_result`` would write."""
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[pk])
    return add_preserved_filters({"preserved_filters": preserved_filters, "opts": model._meta}, url)


@pytest.mark.django_db
def test_it_links_a_filtered_member_list_to_each_member_keeping_the_filter(
    client, staff_a, street_a
):
    waiting = [MemberFactory(street=street_a, status=Member.Status.APPLIED) for _ in range(3)]
    client.force_login(staff_a)
    html = client.get(
        reverse("admin:accounts_member_changelist") + "?status__exact=applied"
    ).content.decode()
    for member in waiting:
        link = _djangos_link(Member, member.pk, "_changelist_filters=status__exact%3Dapplied")
        assert "?_changelist_filters=status__exact%3Dapplied" in link
        assert f'href="{link}"' in html


@pytest.mark.django_db
def test_it_links_an_unfiltered_list_to_bare_change_pages(client, staff_a, elder):
    client.force_login(staff_a)
    html = client.get(reverse("admin:accounts_member_changelist")).content.decode()
    assert f'href="{_djangos_link(Member, elder.member.pk)}"' in html


@pytest.mark.django_db
def test_it_links_transfers_by_their_uuid(client, district, elder, head_office):
    done = services.grant(
        transfer_id=uuid.uuid4(),
        district=district,
        to=selectors.member_account(elder),
        amount=60,
        actor=head_office,
        reason="初始发放",
    )
    client.force_login(head_office)
    html = client.get(reverse("admin:ledger_transfer_changelist") + "?code__exact=grant")
    link = _djangos_link(Transfer, done.pk, "_changelist_filters=code__exact%3Dgrant")
    assert f'href="{link}"' in html.content.decode()
