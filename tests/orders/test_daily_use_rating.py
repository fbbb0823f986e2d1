"""Rating: only those the rate page lets in see the button; staff rate for an elder without a
phone; the member sees what was saved (issue 14)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from orders import services
from orders.models import Evaluation, ServiceRequest

pytestmark = pytest.mark.django_db


@pytest.fixture
def completed_at_base(make_need, volunteer, base_staff_a, elder):
    """An institution service for 张阿婆, confirmed by the base."""
    need = make_need(starts_in=timedelta(minutes=10), auto_confirm=True)
    ServiceRequest.objects.filter(pk=need.pk).update(recipient=elder)
    a = services.grab_place(service_request=need, volunteer=volunteer)
    services.sign_in(assignment=a, actor=volunteer, code=need.checkin_code)
    return services.complete_assignment(assignment=a, actor=base_staff_a, minutes=60)


@pytest.fixture
def completed_at_home(make_home_need, volunteer, advisor_a):
    """A home service the advisor posted for 张阿婆 (no phone), confirmed by the advisor."""
    need = make_home_need()
    a = services.grab_place(service_request=need, volunteer=volunteer)
    services.sign_in(assignment=a, actor=volunteer, code=need.checkin_code)
    return services.complete_assignment(assignment=a, actor=advisor_a, minutes=60)


def test_the_base_sees_no_rate_button_where_the_rate_page_would_refuse_it(
    client, completed_at_base, base_staff_a
):
    url = reverse("orders:rate", args=[completed_at_base.pk])
    client.force_login(base_staff_a)
    assert client.get(url).status_code == 403
    mine = client.get(reverse("orders:mine")).content.decode()
    assert completed_at_base.request.title in mine  # listed, to follow up
    assert url not in mine and "评价此服务" not in mine
    detail = client.get(reverse("orders:detail", args=[completed_at_base.request_id]))
    assert url not in detail.content.decode()


def test_the_elder_sees_the_button_and_then_what_she_saved(client, completed_at_base, elder):
    url = reverse("orders:rate", args=[completed_at_base.pk])
    client.force_login(elder)
    assert url in client.get(reverse("orders:mine")).content.decode()
    detail_url = reverse("orders:detail", args=[completed_at_base.request_id])
    assert url in client.get(detail_url).content.decode()
    page = client.post(url, {"rating": 4, "comment": "很耐心"}, follow=True)
    assert page.redirect_chain[-1][0] == detail_url
    text = page.content.decode()
    assert "感谢您的评价，已保存：★★★★☆" in text
    shown = text.split('data-testid="evaluation"', 1)[1]
    assert "★★★★☆" in shown and "很耐心" in shown
    assert url not in text  # rated once: no button any more
    assert url not in client.get(reverse("orders:mine")).content.decode()


def test_staff_rate_for_an_elder_without_a_phone_from_the_needs_page(
    client, completed_at_home, advisor_a, elder
):
    url = reverse("orders:rate", args=[completed_at_home.pk])
    detail_url = reverse("orders:detail", args=[completed_at_home.request_id])
    client.force_login(advisor_a)
    assert url in client.get(detail_url).content.decode()
    form = client.get(url).content.decode()
    assert "您正在代 张阿婆 评价" in form
    page = client.post(url, {"rating": 5, "comment": "老人说很满意"}, follow=True)
    text = page.content.decode()
    assert "感谢您的评价，已保存：★★★★★" in text
    shown = text.split('data-testid="evaluation"', 1)[1]
    assert "老人说很满意" in shown and "代 张阿婆 评价" in shown
    evaluation = Evaluation.objects.get()
    assert (evaluation.author, evaluation.on_behalf_of) == (advisor_a, elder)


def test_the_elder_sees_the_rating_staff_gave_for_her(client, completed_at_home, advisor_a, elder):
    services.evaluate_assignment(
        assignment=completed_at_home, actor=advisor_a, rating=3, comment="还可以"
    )
    client.force_login(elder)
    text = client.get(reverse("orders:detail", args=[completed_at_home.request_id]))
    shown = text.content.decode().split('data-testid="evaluation"', 1)[1]
    assert "★★★☆☆" in shown and "还可以" in shown
    assert reverse("orders:rate", args=[completed_at_home.pk]) not in text.content.decode()
