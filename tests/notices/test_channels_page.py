"""The member's message channels on /me/: saved through ``services.set_channels``, WeChat
offered only once bound, and a request our page would not send refused with nothing changed."""

from __future__ import annotations

import pytest
from django.urls import reverse

from notices.models import ChannelChoice

pytestmark = pytest.mark.django_db

CHANNELS = reverse("notices:channels")
ME = reverse("accounts:profile")


@pytest.fixture
def wechat_site(settings):
    settings.WECHAT_MP_APP_ID = "wx-test-app"


def bind_wechat(user, settings) -> None:
    from allauth.socialaccount.models import SocialAccount

    SocialAccount.objects.create(
        user=user, provider=settings.WECHAT_MP_PROVIDER, uid="oUser1234abcd"
    )


def test_me_shows_the_choice_and_says_the_inbox_is_always_on(client, volunteer):
    client.force_login(volunteer)
    body = client.get(ME).content.decode()
    assert f'action="{CHANNELS}"' in body
    assert "短信通知" in body and "始终开启" in body
    assert "微信通知" not in body  # the site does not send by WeChat at all


def test_it_saves_the_choice_and_goes_back_to_me(client, volunteer):
    client.force_login(volunteer)
    response = client.post(CHANNELS, {}, follow=True)
    assert response.redirect_chain[-1][0] == ME
    assert "您接收消息的方式已保存" in response.content.decode()
    choice = ChannelChoice.objects.get(user=volunteer)
    assert (choice.sms, choice.wechat) == (False, True)  # WeChat not bound: kept as it was
    client.post(CHANNELS, {"sms": "on"})
    choice.refresh_from_db()
    assert choice.sms is True


def test_wechat_is_shown_disabled_until_bound(client, volunteer, wechat_site, settings):
    client.force_login(volunteer)
    body = client.get(ME).content.decode()
    assert "请先绑定微信" in body and 'name="wechat" checked disabled' in body
    client.post(CHANNELS, {"sms": "on", "wechat": ""})
    assert ChannelChoice.objects.get(user=volunteer).wechat is True  # disabled: unchanged
    bind_wechat(volunteer, settings)
    assert "请先绑定微信" not in client.get(ME).content.decode()
    client.post(CHANNELS, {"sms": "on"})
    assert ChannelChoice.objects.get(user=volunteer).wechat is False


def test_a_member_without_a_phone_keeps_the_sms_choice(client, street_a):
    from tests.factories import MemberFactory

    elder = MemberFactory(elder=True, street=street_a, user__phone=None).user
    client.force_login(elder)
    assert "没有登记手机号" in client.get(ME).content.decode()
    client.post(CHANNELS, {})
    assert ChannelChoice.objects.get(user=elder).sms is True


@pytest.mark.parametrize("data", [{"sms": "maybe"}, {"sms": "on", "wechat": "x" * 5}])
def test_a_bad_post_is_refused_and_changes_nothing(client, volunteer, wechat_site, settings, data):
    bind_wechat(volunteer, settings)
    client.force_login(volunteer)
    response = client.post(CHANNELS, data)
    assert response.status_code == 400
    assert not ChannelChoice.objects.filter(user=volunteer).exists()


def test_it_needs_a_post_a_login_and_the_csrf_token(client, volunteer):
    from django.test import Client

    assert client.post(CHANNELS, {}).status_code == 302  # to log in
    client.force_login(volunteer)
    assert client.get(CHANNELS).status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(volunteer)
    assert strict.post(CHANNELS, {}).status_code == 403
    assert not ChannelChoice.objects.filter(user=volunteer).exists()
