"""An elder-care advisor's way into posting a home-service need."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_an_advisor_without_elders_yet_is_told_to_register_one(client, advisor_a):
    client.force_login(advisor_a)
    response = client.get(reverse("orders:new"))
    assert response.status_code == 200
    assert "本街道还没有通过审核的老人：请先登记老人。" in response.content.decode()


def test_an_advisor_picks_among_the_streets_elders(client, advisor_a, elder):
    client.force_login(advisor_a)
    response = client.get(reverse("orders:new"))
    assert response.status_code == 200
    assert list(response.context["form"].fields["recipient"].queryset) == [elder]
