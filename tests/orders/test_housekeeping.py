"""Housekeeping (cleaning, laundry, pet care): refused where the scheme excludes it
(changning-2019 §6.2, beijing-2022), posted like any other need under shanghai-2026."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from orders import services
from orders.forms import NeedForm
from orders.models import ServiceCategory, ServiceRequest
from orders.services import OrderError
from tests.orders.conftest import HOUR

pytestmark = pytest.mark.django_db


def post(actor, base, category):
    return services.post_request(
        actor=actor,
        category=category,
        title="打扫房间",
        base=base,
        starts_at=timezone.now() + timedelta(days=1),
        duration_minutes=HOUR,
    )


def test_the_migration_seeds_the_housekeeping_categories():
    seeded = {c.code: c for c in ServiceCategory.objects.filter(is_housekeeping=True)}
    for code, name in [("cleaning", "保洁"), ("laundry", "洗衣"), ("pet-care", "宠物照料")]:
        assert seeded[code].name == name
        assert seeded[code].active


@pytest.mark.parametrize("preset", ["changning-2019", "beijing-2022"])
@pytest.mark.parametrize("code", ["cleaning", "laundry", "pet-care"])
def test_it_refuses_housekeeping_where_the_scheme_excludes_it(
    base_staff_a, base_a, policy_name, preset, code
):
    policy_name(preset)
    with pytest.raises(OrderError, match="housekeeping|家政"):
        post(base_staff_a, base_a, ServiceCategory.objects.get(code=code))
    assert not ServiceRequest.objects.exists()


@pytest.mark.parametrize("code", ["cleaning", "laundry", "pet-care"])
def test_shanghai_posts_housekeeping(base_staff_a, base_a, policy_name, code):
    policy_name("shanghai-2026")
    req = post(base_staff_a, base_a, ServiceCategory.objects.get(code=code))
    assert req.category.code == code
    assert req.status == ServiceRequest.Status.SUBMITTED


def test_shanghai_still_refuses_an_inactive_category(base_staff_a, base_a, policy_name):
    policy_name("shanghai-2026")
    ServiceCategory.objects.filter(code="pet-care").update(active=False)
    with pytest.raises(OrderError):
        post(base_staff_a, base_a, ServiceCategory.objects.get(code="pet-care"))


def test_the_form_offers_housekeeping_only_where_allowed(base_staff_a, base_a, policy_name):
    housekeeping = set(
        ServiceCategory.objects.filter(is_housekeeping=True).values_list("pk", flat=True)
    )
    policy_name("changning-2019")
    offered = set(
        NeedForm(user=base_staff_a).fields["category"].queryset.values_list("pk", flat=True)
    )
    assert offered and not offered & housekeeping
    policy_name("shanghai-2026")
    offered = set(
        NeedForm(user=base_staff_a).fields["category"].queryset.values_list("pk", flat=True)
    )
    assert housekeeping <= offered


def test_shanghai_posts_housekeeping_through_the_page(client, base_staff_a, base_a, policy_name):
    policy_name("shanghai-2026")
    pet_care = ServiceCategory.objects.get(code="pet-care")
    client.force_login(base_staff_a)
    assert f'value="{pet_care.pk}"' in client.get(reverse("orders:new")).content.decode()
    day = (timezone.localdate() + timedelta(days=3)).isoformat()
    page = client.post(
        reverse("orders:new"),
        {
            "base": base_a.pk,
            "category": pet_care.pk,
            "title": "喂猫",
            "day": day,
            "start": "09:00",
            "units": 1,
            "places": 1,
        },
    )
    assert page.status_code == 302
    assert ServiceRequest.objects.get().category == pet_care


def test_changning_neither_offers_nor_accepts_it_on_the_page(client, base_staff_a, base_a):
    pet_care = ServiceCategory.objects.get(code="pet-care")
    client.force_login(base_staff_a)
    assert f'value="{pet_care.pk}"' not in client.get(reverse("orders:new")).content.decode()
    day = (timezone.localdate() + timedelta(days=3)).isoformat()
    page = client.post(
        reverse("orders:new"),
        {
            "base": base_a.pk,
            "category": pet_care.pk,
            "title": "喂猫",
            "day": day,
            "start": "09:00",
            "units": 1,
            "places": 1,
        },
    )
    assert page.status_code == 200
    assert "宠物照料" in page.content.decode()  # the reason names the category
    assert not ServiceRequest.objects.exists()
