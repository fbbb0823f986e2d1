"""WeChat template messages against the local fake official-account API (tests/notices/fakes.py),
with the access token kept in the real cache."""

import pytest
from django.core.cache import cache

from notices.gateways import GatewayError, wechat
from tests.notices.fakes import FakeWeChat

OPENID = "oTbk_4fJ9kX2mPq7Rs1uVw3yZa5c"
TEMPLATES = {
    "default": {"template_id": "TPL-default", "data": {"thing1": "title", "thing2": "body"}},
    "service_tomorrow": {
        "template_id": "TPL-service",
        "data": {"thing1": "title", "time2": "when", "thing3": "place"},
    },
}


@pytest.fixture
def gateway(settings):
    with FakeWeChat(templates=TEMPLATES) as fake:
        fake.configure(settings)
        settings.GATEWAY_TIMEOUT_SECONDS = 0.5
        yield fake


def send(**kwargs):
    message = {
        "openid": OPENID,
        "title": "报名已通过",
        "body": "欢迎加入时间银行。",
        "url": "https://timebank.example/notices/1/",
        "event": "member_approved",
        "key": "tb-1-wechat",
        **kwargs,
    }
    return wechat.send_template(**message)


def test_it_sends_a_template_message_and_returns_its_msgid(gateway):
    ref = send()

    [message] = gateway.messages
    assert ref == message["reference"] != ""
    assert message["openid"] == OPENID
    assert message["template_id"] == "TPL-default"
    assert message["data"] == {"thing1": "报名已通过", "thing2": "欢迎加入时间银行。"}
    assert message["url"] == "https://timebank.example/notices/1/"
    assert message["client_msg_id"] == "tb-1-wechat"


def test_an_events_template_takes_its_params(gateway):
    params = {"title": "陪老人散步", "when": "2026-12-04 09:00", "place": "长宁路 1 号"}

    send(event="service_tomorrow", title="明天有服务", params=params)

    [message] = gateway.messages
    assert message["template_id"] == "TPL-service"
    assert message["data"] == {
        "thing1": "明天有服务",
        "time2": params["when"],
        "thing3": params["place"],
    }


def test_a_long_text_is_cut_to_what_the_field_allows(gateway):
    body = "因天气原因，原定于周六上午在长宁路社区活动中心举行的陪老人散步活动改期。"

    send(body=body)  # the fake refuses a "thing" longer than 20 characters, as WeChat does

    value = gateway.messages[0]["data"]["thing2"]
    assert len(value) == 20 and value.endswith("…") and body.startswith(value[:-1])


def test_two_sends_share_one_cached_token(gateway):
    send(key="tb-1-wechat")
    send(key="tb-2-wechat")

    assert len(gateway.messages) == 2
    [asked] = gateway.token_requests
    assert asked == {
        "grant_type": "client_credential",
        "appid": gateway.app_id,
        "secret": gateway.app_secret,
    }
    assert cache.get(wechat.token_cache_key()) in gateway.tokens


@pytest.mark.parametrize("how", ["expired", "replaced"])
def test_a_refused_token_is_replaced_and_the_send_tried_again(gateway, how):
    send(key="tb-1-wechat")
    if how == "expired":
        gateway.expire_tokens()  # answers 42001
    else:
        gateway.tokens.clear()  # answers 40001, as after another fetch elsewhere

    ref = send(key="tb-2-wechat")

    assert ref == gateway.messages[-1]["reference"]
    assert len(gateway.messages) == 2
    assert len(gateway.token_requests) == 2
    assert gateway.tokens[cache.get(wechat.token_cache_key())] is True


def test_a_token_refused_twice_is_transient(gateway):
    gateway.fail(40001, times=2)

    with pytest.raises(GatewayError, match="40001") as caught:
        send()

    assert not caught.value.permanent
    assert len(gateway.token_requests) == 2 and not gateway.messages


def test_a_wrong_app_secret_is_permanent(gateway, settings):
    settings.WECHAT_MP_APP_SECRET = "not-the-secret"

    with pytest.raises(GatewayError, match="40125") as caught:
        send()

    assert caught.value.permanent
    assert [r["path"] for r in gateway.received] == [FakeWeChat.TOKEN_PATH]


def test_a_busy_token_endpoint_is_transient(gateway):
    gateway.fail_token(-1)

    with pytest.raises(GatewayError, match="-1") as caught:
        send()

    assert not caught.value.permanent
    assert cache.get(wechat.token_cache_key()) is None
    assert send()


def test_a_member_who_does_not_follow_the_account_is_permanent(gateway):
    gateway.unsubscribed.add(OPENID)

    with pytest.raises(GatewayError, match="43004") as caught:
        send()

    assert caught.value.permanent and not gateway.messages


def test_an_unknown_template_is_permanent(gateway, settings):
    settings.WECHAT_TEMPLATES = {"default": {"template_id": "TPL-deleted"}}

    with pytest.raises(GatewayError, match="40037") as caught:
        send()

    assert caught.value.permanent


@pytest.mark.parametrize(
    ("code", "permanent"),
    [(43004, True), (40003, True), (40037, True), (47003, True), (45009, False), (-1, False)],
)
def test_each_error_answer_is_permanent_or_not(gateway, code, permanent):
    gateway.fail(code)

    with pytest.raises(GatewayError, match=str(code)) as caught:
        send()

    assert caught.value.permanent is permanent
    assert not gateway.messages
    assert send()


def test_a_repeated_send_with_the_same_key_is_delivered_once(gateway):
    first = send(key="tb-5-wechat")
    again = send(key="tb-5-wechat")
    other = send(key="tb-6-wechat")

    assert again == first != other
    assert [m["client_msg_id"] for m in gateway.messages] == ["tb-5-wechat", "tb-6-wechat"]
    assert gateway.duplicates == 1


@pytest.mark.parametrize("failure", ["hang", "drop", "http"])
def test_network_failures_are_transient(gateway, failure):
    send(key="tb-1-wechat")  # a token is cached: the failure hits the send itself
    if failure == "http":
        gateway.fail_http(502)
    else:
        getattr(gateway, failure)()

    with pytest.raises(GatewayError) as caught:
        send(key="tb-2-wechat")

    assert not caught.value.permanent
    assert len(gateway.messages) == 1


@pytest.mark.parametrize("missing", ["app_id", "templates"])
def test_without_configuration_nothing_is_asked(gateway, settings, missing):
    if missing == "app_id":
        settings.WECHAT_MP_APP_ID = ""
    else:
        settings.WECHAT_TEMPLATES = {}

    with pytest.raises(GatewayError, match="no template message configured") as caught:
        send()

    assert caught.value.permanent
    assert gateway.received == []
