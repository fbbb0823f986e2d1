"""In-WeChat login (网页授权) against a local fake of WeChat's OAuth API."""

import json
import logging
import re
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.socialaccount.models import SocialAccount
from django.contrib import auth
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.models import User
from accounts.wechat_mp.models import WechatBindingEvent
from tests.factories import PASSWORD, UserFactory

APP_ID = "wx-mp-test"
APP_SECRET = "mp-secret"
IN_WECHAT = {"HTTP_USER_AGENT": "Mozilla/5.0 (iPhone) Mobile MicroMessenger/8.0.50 NetType/WIFI"}
OUTSIDE = {"HTTP_USER_AGENT": "Mozilla/5.0 (iPhone) Mobile Safari/604.1"}


class FakeWechat:
    """Speaks the documented shapes of /sns/oauth2/access_token and /sns/userinfo."""

    def __init__(self):
        self.codes: dict[str, dict] = {}  # one-time codes WeChat handed to the browser
        self.tokens: dict[str, dict] = {}
        self.profiles: dict[str, dict] = {}
        self.calls: list[tuple[str, dict]] = []

    def issue_code(self, openid, *, scope="snsapi_base", nickname="", unionid=""):
        code = f"code-{len(self.codes) + 1}"
        self.codes[code] = {"openid": openid, "scope": scope, "unionid": unionid}
        if nickname:
            self.profiles[openid] = {
                "nickname": nickname,
                "headimgurl": f"https://wx.qlogo.cn/{openid}/0",
            }
        return code

    def answer(self, path, query):
        self.calls.append((path, query))
        if path == "/sns/oauth2/access_token":
            if query.get("appid") != APP_ID or query.get("secret") != APP_SECRET:
                return {"errcode": 40125, "errmsg": "invalid appsecret"}
            grant = self.codes.pop(query.get("code", ""), None)
            if grant is None or query.get("grant_type") != "authorization_code":
                return {"errcode": 40029, "errmsg": "invalid code"}
            token = f"token-{grant['openid']}-{len(self.tokens)}"
            self.tokens[token] = grant
            answer = {
                "access_token": token,
                "expires_in": 7200,
                "refresh_token": f"refresh-{token}",
                "openid": grant["openid"],
                "scope": grant["scope"],
            }
            if grant["unionid"]:
                answer["unionid"] = grant["unionid"]
            return answer
        if path == "/sns/userinfo":
            grant = self.tokens.get(query.get("access_token", ""))
            if grant is None or grant["openid"] != query.get("openid"):
                return {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"}
            if grant["scope"] != "snsapi_userinfo":
                return {"errcode": 48001, "errmsg": "api unauthorized"}
            return {
                "openid": grant["openid"],
                "sex": 1,
                "province": "上海",
                "city": "上海",
                "country": "中国",
                "privilege": [],
                **self.profiles.get(grant["openid"], {"nickname": "", "headimgurl": ""}),
            }
        return {"errcode": 40066, "errmsg": "invalid url"}


@contextmanager
def running_fake_wechat(settings):
    """Starts the fake on 127.0.0.1 and points the WECHAT_MP_* settings at it."""
    fake = FakeWechat()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            body = json.dumps(fake.answer(url.path, query), ensure_ascii=False).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")  # as WeChat does: no charset
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.WECHAT_MP_APP_ID = APP_ID
    settings.WECHAT_MP_APP_SECRET = APP_SECRET
    settings.WECHAT_MP_API = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def wechat(settings):
    with running_fake_wechat(settings) as fake:
        yield fake


def start(client, **data):
    """Taps the button: returns the query of WeChat's authorize URL we were sent to."""
    response = client.post(reverse("weixin_mp_login"), {"process": "login", **data}, **IN_WECHAT)
    assert response.status_code == 302
    return urlsplit(response["Location"])


def wechat_login(client, wechat, openid, *, scope="snsapi_base", nickname="", **data):
    state = parse_qs(start(client, scope=scope, **data).query)["state"][0]
    code = wechat.issue_code(openid, scope=scope, nickname=nickname)
    return client.get(reverse("weixin_mp_callback"), {"code": code, "state": state}, **IN_WECHAT)


def texts(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def link(user, openid, **extra):
    return SocialAccount.objects.create(
        user=user, provider="weixin_mp", uid=openid, extra_data={"openid": openid, **extra}
    )


@pytest.mark.django_db
def test_it_offers_one_big_wechat_button_inside_wechat_only(client, wechat):
    inside = client.get(reverse("account_login"), **IN_WECHAT).content.decode()
    outside = client.get(reverse("account_login"), **OUTSIDE).content.decode()
    action = f'action="{reverse("weixin_mp_login")}"'
    assert inside.count(action) == 1 and "微信登录" in inside
    assert action not in outside and reverse("weixin_mp_login") not in outside


@pytest.mark.django_db
def test_it_shows_nothing_and_refuses_when_not_configured(client, settings):
    settings.WECHAT_MP_APP_ID = ""
    settings.WECHAT_MP_APP_SECRET = ""
    body = client.get(reverse("account_login"), **IN_WECHAT).content.decode()
    assert reverse("weixin_mp_login") not in body
    assert client.post(reverse("weixin_mp_login"), **IN_WECHAT).status_code == 404
    callback = {"code": "c", "state": "s"}
    assert client.get(reverse("weixin_mp_callback"), callback, **IN_WECHAT).status_code == 404
    client.force_login(UserFactory())
    assert client.get(reverse("wechat_mp_finish")).status_code == 404
    assert client.post(reverse("wechat_mp_unbind")).status_code == 404


@pytest.mark.django_db
def test_it_starts_the_documented_authorize_redirect(client, wechat, settings):
    url = start(client)
    query = parse_qs(url.query)
    assert f"{url.scheme}://{url.netloc}{url.path}" == settings.WECHAT_MP_OAUTH_AUTHORIZE_URL
    assert url.fragment == "wechat_redirect"
    assert query["appid"] == [APP_ID] and query["response_type"] == ["code"]
    assert query["redirect_uri"] == ["http://testserver" + reverse("weixin_mp_callback")]
    assert query["scope"] == ["snsapi_base"] and query["state"][0]
    assert parse_qs(start(client, scope="snsapi_userinfo").query)["scope"] == ["snsapi_userinfo"]


@pytest.mark.django_db
def test_it_logs_in_the_owner_of_a_bound_openid(client, wechat, volunteer, settings):
    link(volunteer, "o-volunteer")
    response = wechat_login(client, wechat, "o-volunteer")
    assert response.status_code == 302
    assert auth.get_user(client) == volunteer
    path, query = wechat.calls[0]
    assert path == "/sns/oauth2/access_token"
    assert query["appid"] == APP_ID and query["secret"] == APP_SECRET
    assert query["grant_type"] == "authorization_code" and query["code"].startswith("code-")
    assert [p for p, _ in wechat.calls] == ["/sns/oauth2/access_token"]  # base: no userinfo


@pytest.mark.django_db
def test_snsapi_userinfo_stores_the_nickname_and_snsapi_base_keeps_it(client, wechat, volunteer):
    link(volunteer, "o-volunteer")
    wechat_login(client, wechat, "o-volunteer", scope="snsapi_userinfo", nickname="王大爷")
    assert auth.get_user(client) == volunteer
    assert wechat.calls[-1][0] == "/sns/userinfo"
    assert wechat.calls[-1][1]["lang"] == "zh_CN" and wechat.calls[-1][1]["openid"] == "o-volunteer"
    account = SocialAccount.objects.get(provider="weixin_mp", uid="o-volunteer")
    assert account.extra_data["nickname"] == "王大爷"
    client.logout()
    wechat_login(client, wechat, "o-volunteer")
    account.refresh_from_db()
    assert auth.get_user(client) == volunteer and account.extra_data["nickname"] == "王大爷"


@pytest.mark.django_db
def test_an_unknown_openid_is_linked_after_a_phone_login_then_logs_in_directly(
    client, wechat, django_user_model
):
    user = UserFactory(phone="+8613912340001")
    users_before = django_user_model.objects.count()
    response = wechat_login(client, wechat, "o-new", scope="snsapi_userinfo", nickname="老李")
    finish = reverse("wechat_mp_finish")
    assert response["Location"] == reverse("account_login") + "?next=" + finish.replace("/", "%2F")
    assert not auth.get_user(client).is_authenticated
    assert django_user_model.objects.count() == users_before  # WeChat alone makes no account
    assert not SocialAccount.objects.filter(uid="o-new").exists()
    assert "请用手机号登录一次，即可绑定" in " ".join(texts(response))

    response = client.post(
        reverse("account_login") + "?next=" + finish,
        {"login": "13912340001", "password": PASSWORD},
        **IN_WECHAT,
    )
    assert response["Location"] == finish
    page = client.get(finish, **IN_WECHAT)
    assert "老李" in page.content.decode()
    assert not SocialAccount.objects.filter(uid="o-new").exists()  # nothing before the tap
    assert client.post(finish, **IN_WECHAT)["Location"] == reverse("accounts:profile")
    account = SocialAccount.objects.get(provider="weixin_mp", uid="o-new")
    assert account.user == user and account.extra_data["nickname"] == "老李"
    event = WechatBindingEvent.objects.get()
    assert (event.user, event.actor, event.openid, event.action) == (user, user, "o-new", "bind")

    client.logout()
    wechat_login(client, wechat, "o-new")
    assert auth.get_user(client) == user


@pytest.mark.django_db
def test_a_new_person_signs_up_with_a_phone_and_links_after(client, wechat, caplog):
    caplog.set_level(logging.INFO, logger="timebank.sms")
    wechat_login(client, wechat, "o-newcomer")
    response = client.post(
        reverse("account_signup"),
        {"phone": "13912340002", "password1": "a-Good-pass-2026", "password2": "a-Good-pass-2026"},
        **IN_WECHAT,
    )
    assert response.status_code == 302
    user = User.objects.get(phone="+8613912340002")
    sms = [r.getMessage() for r in caplog.records if r.name == "timebank.sms"][-1]
    code = re.search(r"(\d{6})", sms.split(":", 1)[1]).group(1)
    client.post(reverse("account_verify_phone"), {"code": code}, **IN_WECHAT)
    assert auth.get_user(client) == user
    assert not SocialAccount.objects.filter(uid="o-newcomer").exists()
    assert client.post(reverse("wechat_mp_finish"), **IN_WECHAT).status_code == 302
    assert SocialAccount.objects.get(provider="weixin_mp", uid="o-newcomer").user == user


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("callback", "message"),
    [
        ({"code": "never-issued"}, "微信没能确认您的身份"),
        ({"code": "code-1", "state": "forged"}, "不是从本页面开始的"),
        ({}, "您没有允许微信登录"),
    ],
    ids=["invalid-code", "state-mismatch", "denied"],
)
def test_a_failed_wechat_login_says_why_and_logs_nobody_in(
    client, wechat, volunteer, callback, message
):
    link(volunteer, "o-volunteer")
    state = parse_qs(start(client).query)["state"][0]
    wechat.issue_code("o-volunteer")  # code-1, valid: only a forged state spoils it
    response = client.get(reverse("weixin_mp_callback"), {"state": state, **callback}, **IN_WECHAT)
    assert response.status_code == 302 and response["Location"] == reverse("account_login")
    assert any(message in text for text in texts(response))
    assert not auth.get_user(client).is_authenticated


@pytest.mark.django_db
def test_a_failed_userinfo_answer_logs_nobody_in(client, wechat, volunteer):
    link(volunteer, "o-volunteer")
    state = parse_qs(start(client, scope="snsapi_userinfo").query)["state"][0]
    code = wechat.issue_code("o-volunteer", scope="snsapi_userinfo")
    wechat.tokens.clear()  # the token WeChat gives will be unknown to its userinfo
    wechat.answer = _forget_tokens(wechat.answer, wechat)
    response = client.get(
        reverse("weixin_mp_callback"), {"code": code, "state": state}, **IN_WECHAT
    )
    assert any("微信没能确认您的身份" in text for text in texts(response))
    assert not auth.get_user(client).is_authenticated
    assert wechat.calls[-1][0] == "/sns/userinfo"


def _forget_tokens(answer, fake):
    def forgetful(path, query):
        result = answer(path, query)
        fake.tokens.clear()  # as if the access token had expired at once
        return result

    return forgetful
