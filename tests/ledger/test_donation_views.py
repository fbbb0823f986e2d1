"""/coins/donate/: the donation page."""

import uuid

import pytest
from django.urls import reverse

from accounts import idnumbers
from accounts.models import Member
from ledger import selectors
from ledger.models import Transfer
from tests.factories import MemberFactory
from tests.ledger.test_donations import HOUR, earn, mark_in_need

pytestmark = pytest.mark.django_db
URL = "/coins/donate/"


@pytest.fixture
def donor(client, volunteer, district, policy_name):
    policy_name("beijing-2022")
    earn(district, volunteer, 5 * HOUR)
    client.force_login(volunteer)
    return volunteer


@pytest.fixture
def needy(elder):
    mark_in_need(elder)
    return elder


def post(client, **data):
    form = {"donation_id": str(uuid.uuid4()), "recipient": "pool", "hours": "2"} | data
    return client.post(URL, form)


def test_it_is_routed_by_name():
    assert reverse("ledger:donate") == URL


def test_it_sends_visitors_without_membership_to_their_profile(client, outsider):
    client.force_login(outsider)
    assert client.get(URL).status_code == 302


def test_it_says_donations_are_not_part_of_a_scheme_without_them(client, volunteer, no_donations):
    client.force_login(volunteer)
    response = client.get(URL)
    html = response.content.decode()
    assert response.status_code == 200 and 'data-testid="not-in-scheme"' in html
    assert response.context["form"] is None and '<form method="post" novalidate' not in html
    assert post(client).status_code == 200 and not Transfer.objects.filter(code="donation")


def test_it_lists_the_pool_and_elders_in_need_by_masked_name_street_and_age_band(
    client, donor, needy, django_assert_max_num_queries
):
    member = Member.objects.get(user=needy)
    with django_assert_max_num_queries(12):
        response = client.get(URL)
    html = response.content.decode()
    assert 'value="pool"' in html and f'value="elder-{needy.pk}"' in html
    assert "张**" in html and "天山" in html and "80–89" in html
    assert needy.full_name not in html
    assert idnumbers.decrypt(member.id_number_encrypted) not in html
    assert member.id_number_masked not in html and str(needy.phone) not in html
    assert str(member.birth_date) not in html
    assert 'data-testid="may-donate">5 ' in html


def test_the_list_never_shows_a_bases_address_or_unmarked_elders(
    client, donor, elder, base_a, policy_name
):
    policy_name("shanghai-2026")
    html = client.get(URL).content.decode()
    assert f'value="base-{base_a.pk}"' in html and base_a.name in html
    assert base_a.address not in html and str(base_a.contact_phone) not in html
    assert f'value="elder-{elder.pk}"' not in html  # not marked as in hardship


def test_a_donation_redirects_with_a_message_and_a_double_post_moves_once(client, donor, district):
    data = {"donation_id": str(uuid.uuid4()), "recipient": "pool", "hours": "2"}
    first = client.post(URL, data)
    assert first.status_code == 302 and first["Location"] == URL
    again = client.post(URL, data)
    assert again.status_code == 302
    assert Transfer.objects.filter(code="donation").count() == 1
    assert selectors.donation_pool(district).balance == 2 * HOUR
    page = client.get(URL)
    assert [m.level_tag for m in page.context["messages"]] == ["success", "success"]
    assert page.context["summary"].minutes == 2 * HOUR


def test_it_donates_to_a_chosen_elder(client, donor, needy):
    assert post(client, recipient=f"elder-{needy.pk}", hours="1").status_code == 302
    t = Transfer.objects.get(code="donation")
    assert t.on_behalf_of == needy and selectors.member_account(needy).balance == HOUR


@pytest.mark.parametrize("hours", ["1.5", "abc", "0", "-1", ""])
def test_bad_hours_are_form_errors(client, donor, hours):
    response = post(client, hours=hours)
    assert response.status_code == 200
    assert response.context["form"].errors["hours"]
    assert not Transfer.objects.filter(code="donation").exists()


def test_a_refusal_of_the_ledger_is_a_form_error_not_a_500(client, donor):
    response = post(client, hours="6")
    assert response.status_code == 200
    assert response.context["form"].errors["hours"]
    assert not Transfer.objects.filter(code="donation").exists()


def test_an_unknown_or_unlisted_recipient_is_a_form_error(client, donor, elder, street_a):
    other = MemberFactory(elder=True, street=street_a).user  # not marked
    for recipient in ("cash", f"elder-{other.pk}", f"elder-{elder.pk}"):
        response = post(client, recipient=recipient)
        assert response.status_code == 200 and response.context["form"].errors["recipient"]


def test_an_unverified_member_sees_no_form(client, donor):
    Member.objects.filter(user=donor).update(status="suspended")
    response = client.get(URL)
    assert response.status_code == 200 and response.context["form"] is None
