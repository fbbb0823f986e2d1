"""Linking and unlinking WeChat from /me/, and the history kept of it."""

from urllib.parse import parse_qs

import pytest
from allauth.socialaccount.models import SocialAccount
from django.contrib import auth
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse

from accounts.wechat_mp import services
from accounts.wechat_mp.models import WechatBindingEvent
from accounts.wechat_mp.selectors import wechat_binding
from notices.channels import wechat_openid
from tests.accounts.test_wechat_mp_login import (
    IN_WECHAT,
    OUTSIDE,
    link,
    running_fake_wechat,
    start,
    texts,
    wechat_login,
)


@pytest.fixture
def wechat(settings):
    with running_fake_wechat(settings) as fake:
        yield fake


def fragment(client, headers):
    """The /me/ section as the lead includes it, for the request this client makes."""
    request = client.get(reverse("accounts:profile"), **headers).wsgi_request
    return render_to_string("accounts/_wechat_binding.html", wechat_binding(request), request)


@pytest.mark.django_db
def test_a_member_links_wechat_from_me_inside_wechat(client, wechat, volunteer):
    client.force_login(volunteer)
    section = fragment(client, IN_WECHAT)
    assert f'action="{reverse("weixin_mp_login")}"' in section
    assert 'value="connect"' in section and 'value="snsapi_userinfo"' in section
    response = wechat_login(
        client,
        wechat,
        "o-volunteer",
        scope="snsapi_userinfo",
        nickname="王志愿的微信",
        process="connect",
    )
    assert response["Location"] == reverse("accounts:profile")
    assert any("微信已绑定到您的账号" in text for text in texts(response))
    account = SocialAccount.objects.get(provider="weixin_mp", user=volunteer)
    assert account.uid == "o-volunteer" and account.extra_data["nickname"] == "王志愿的微信"
    assert wechat_openid(volunteer) == "o-volunteer"  # where template messages will go
    event = WechatBindingEvent.objects.get()
    assert (event.user, event.actor, event.action) == (volunteer, volunteer, "bind")
    assert event.created_at is not None
    section = fragment(client, IN_WECHAT)
    assert "王志愿的微信" in section and reverse("wechat_mp_unbind") in section


@pytest.mark.django_db
def test_outside_wechat_me_says_where_to_link_and_offers_no_button(
    client,
    wechat,
    volunteer,
):
    client.force_login(volunteer)
    section = fragment(client, OUTSIDE)
    assert "请在微信里" in section
    assert reverse("weixin_mp_login") not in section


@pytest.mark.django_db
def test_the_section_is_empty_when_wechat_is_not_configured(client, settings, volunteer):
    settings.WECHAT_MP_APP_ID = ""
    client.force_login(volunteer)
    assert fragment(client, IN_WECHAT).strip() == ""


@pytest.mark.django_db
def test_an_openid_linked_to_someone_else_is_refused(client, wechat, volunteer, volunteer2):
    link(volunteer, "o-volunteer")
    client.force_login(volunteer2)
    response = wechat_login(client, wechat, "o-volunteer", process="connect")
    assert any("这个微信已经绑定了另一个时间银行账号" in text for text in texts(response))
    assert SocialAccount.objects.get(uid="o-volunteer").user == volunteer
    assert not SocialAccount.objects.filter(user=volunteer2).exists()
    assert not WechatBindingEvent.objects.exists()
    assert auth.get_user(client) == volunteer2  # still the person who tried


@pytest.mark.django_db
def test_an_openid_taken_while_the_phone_login_happened_is_refused(
    client, wechat, volunteer, volunteer2
):
    wechat_login(client, wechat, "o-shared")  # unknown: waits for a phone login
    link(volunteer, "o-shared")  # meanwhile linked elsewhere
    client.force_login(volunteer2)
    response = client.post(reverse("wechat_mp_finish"), **IN_WECHAT)
    assert any("已经绑定了另一个时间银行账号" in text for text in texts(response))
    assert SocialAccount.objects.get(uid="o-shared").user == volunteer
    assert client.get(reverse("wechat_mp_finish"))["Location"] == reverse("accounts:profile")


@pytest.mark.django_db
def test_an_account_links_one_wechat_only(volunteer):
    services.bind_wechat(user=volunteer, actor=volunteer, openid="o-one", extra_data={})
    again = services.bind_wechat(user=volunteer, actor=volunteer, openid="o-one", extra_data={})
    assert again.uid == "o-one" and WechatBindingEvent.objects.count() == 1  # nothing changed
    with pytest.raises(services.WechatError, match="已经绑定了另一个微信"):
        services.bind_wechat(user=volunteer, actor=volunteer, openid="o-two", extra_data={})
    assert list(SocialAccount.objects.filter(user=volunteer).values_list("uid", flat=True)) == [
        "o-one"
    ]


@pytest.mark.django_db
def test_a_member_unlinks_wechat_by_post_with_csrf(wechat, volunteer):
    link(volunteer, "o-volunteer")
    client = Client(enforce_csrf_checks=True)
    client.force_login(volunteer)
    assert client.post(reverse("wechat_mp_unbind")).status_code == 403  # no CSRF token
    assert client.get(reverse("wechat_mp_unbind")).status_code == 405
    client.get(reverse("accounts:profile"))  # its forms set the CSRF cookie
    token = client.cookies["csrftoken"].value
    response = client.post(reverse("wechat_mp_unbind"), {"csrfmiddlewaretoken": token})
    assert response["Location"] == reverse("accounts:profile")
    assert any("已解绑微信" in text for text in texts(response))
    assert not SocialAccount.objects.filter(user=volunteer).exists()
    assert wechat_openid(volunteer) is None
    event = WechatBindingEvent.objects.get()
    assert (event.user, event.actor, event.openid, event.action) == (
        volunteer,
        volunteer,
        "o-volunteer",
        "unbind",
    )


@pytest.mark.django_db
def test_after_unlinking_wechat_no_longer_logs_in(client, wechat, volunteer):
    link(volunteer, "o-volunteer")
    services.unbind_wechat(user=volunteer, actor=volunteer)
    response = wechat_login(client, wechat, "o-volunteer")
    assert not auth.get_user(client).is_authenticated
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.django_db
def test_a_failed_link_from_me_returns_to_me(client, wechat, volunteer):
    client.force_login(volunteer)
    state = parse_qs(start(client, process="connect").query)["state"][0]
    response = client.get(
        reverse("weixin_mp_callback"), {"code": "never-issued", "state": state}, **IN_WECHAT
    )
    assert response["Location"] == reverse("accounts:profile")
    assert any("微信没能确认您的身份" in text for text in texts(response))
    assert not SocialAccount.objects.filter(user=volunteer).exists()


@pytest.mark.django_db
def test_allauths_connections_page_does_not_unlink_wechat_behind_the_history(
    client, wechat, volunteer
):
    account = link(volunteer, "o-volunteer")
    client.force_login(volunteer)
    response = client.post(reverse("socialaccount_connections"), {"account": account.pk})
    assert response.context["form"].errors == {"__all__": ["请在“我的”页面解绑微信。"]}
    assert SocialAccount.objects.filter(pk=account.pk).exists()


@pytest.mark.parametrize("openid", ["a\x00b", "9" * 400, "o'; drop", ""])
def test_it_refuses_an_openid_wechat_never_sends(volunteer, openid):
    with pytest.raises(services.WechatError):
        services.bind_wechat(
            user=volunteer, actor=volunteer, openid=openid, extra_data={"openid": openid}
        )
    assert not SocialAccount.objects.filter(user=volunteer).exists()


def test_it_keeps_details_as_text_the_database_stores(volunteer):
    extra = {"openid": "oAbc_123", "nickname": "王\x00大爷", "unionid": "bad id!", "x": "dropped"}
    account = services.bind_wechat(
        user=volunteer, actor=volunteer, openid="oAbc_123", extra_data=extra
    )
    account.refresh_from_db()
    assert account.extra_data == {"openid": "oAbc_123", "nickname": "王大爷"}


@pytest.mark.django_db
@pytest.mark.parametrize("pending", [{"nickname": "新朋友"}, {"openid": ""}, ["o-list"]])
def test_a_waiting_link_without_an_openid_is_dropped(client, wechat, volunteer, pending):
    """Nothing WeChat told (no openid): the page goes back to "me" and forgets it."""
    client.force_login(volunteer)
    session = client.session
    session["wechat_mp_pending"] = pending
    session.save()
    for send in (client.get, client.post):
        response = send(reverse("wechat_mp_finish"), **IN_WECHAT)
        assert response.status_code == 302
        assert response["Location"] == reverse("accounts:profile")
    assert "wechat_mp_pending" not in client.session
    assert not SocialAccount.objects.filter(user=volunteer).exists()
