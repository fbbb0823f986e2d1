"""Aliyun SMS adapter against the local fake dysmsapi (tests/notices/fakes.py)."""

import os
import subprocess
import sys

import pytest

from accounts.adapter import AccountAdapter
from notices.gateways import GatewayError, aliyun
from notices.sms import send_sms
from tests.notices import fakes
from tests.notices.fakes import FakeAliyunSms

PHONE = "+8613912345678"
TEMPLATES = {
    "default": {"id": "SMS_100", "params": ["text"]},
    "code": {"id": "SMS_200", "params": ["code"]},
    "service_tomorrow": {"id": "SMS_300", "params": ["title", "when", "place"]},
}
# Aliyun's worked example for signature 1.0 (DescribeRegions, secret "testsecret", GET).
DOC_PARAMS = {
    "AccessKeyId": "testid",
    "Action": "DescribeRegions",
    "Format": "XML",
    "SignatureMethod": "HMAC-SHA1",
    "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
    "SignatureVersion": "1.0",
    "Timestamp": "2016-02-23T12:46:24Z",
    "Version": "2014-05-26",
}
DOC_SIGNATURE = "OLeaidS1JvxuMvnyHOwuJ+uX5qY="


@pytest.fixture
def gateway(settings):
    with FakeAliyunSms(templates=TEMPLATES) as fake:
        fake.configure(settings)
        settings.GATEWAY_TIMEOUT_SECONDS = 0.5  # a hung gateway is given up on quickly
        yield fake


def send(**kwargs):
    return send_sms(**{"phone": PHONE, "text": "时间银行：您的报名已通过。", **kwargs})


def test_it_signs_as_the_documentation_example():
    assert aliyun.signature(DOC_PARAMS, "testsecret", "GET") == DOC_SIGNATURE
    assert fakes.aliyun_signature(DOC_PARAMS, "testsecret", "GET") == DOC_SIGNATURE


def test_it_sends_the_default_template_carrying_the_text(gateway):
    ref = send(event="member_approved", key="tb-7-sms")

    [message] = gateway.messages
    assert ref == message["reference"] != ""
    assert message["phone"] == "13912345678"  # national number, as dysmsapi takes it
    assert message["template"] == "SMS_100"
    assert message["params"] == {"text": "时间银行：您的报名已通过。"}
    assert message["out_id"] == "tb-7-sms"
    assert message["sign_name"] == gateway.sign_name


def test_it_sends_an_events_own_template_with_its_params_as_strings(gateway):
    params = {"title": "陪老人散步", "when": "2026-12-04 09:00", "place": "长宁路 1 号", "coins": 3}

    send(event="service_tomorrow", key="tb-8-sms", params=params)

    [message] = gateway.messages
    assert message["template"] == "SMS_300"
    assert message["params"] == {k: params[k] for k in ("title", "when", "place")}


def test_login_codes_from_the_phone_flow_use_the_code_template(gateway):
    AccountAdapter().send_verification_code_sms(user=None, phone=PHONE, code="482913")
    AccountAdapter().send_unknown_account_sms(PHONE)

    code, unknown = gateway.messages
    assert (code["template"], code["params"]) == ("SMS_200", {"code": "482913"})
    assert unknown["template"] == "SMS_100"
    assert "482913" not in unknown["params"]["text"]


def test_a_wrong_secret_is_refused_as_the_signature_not_matching(gateway, settings):
    settings.ALIYUN_SMS_ACCESS_KEY_SECRET = "not-the-secret"

    with pytest.raises(GatewayError, match="SignatureDoesNotMatch") as caught:
        send()

    assert caught.value.permanent
    assert gateway.received and not gateway.messages


def test_an_unknown_access_key_is_permanent(gateway, settings):
    settings.ALIYUN_SMS_ACCESS_KEY_ID = "LTAI-nobody"

    with pytest.raises(GatewayError, match="InvalidAccessKeyId.NotFound") as caught:
        send()

    assert caught.value.permanent


def test_an_invalid_number_is_permanent(gateway):
    with pytest.raises(GatewayError, match="isv.MOBILE_NUMBER_ILLEGAL") as caught:
        send(phone="+86123")

    assert caught.value.permanent and not gateway.messages


def test_a_template_missing_a_variable_is_permanent(gateway):
    gateway.templates["SMS_100"] = ["text", "name"]  # registered with a variable we don't send

    with pytest.raises(GatewayError, match="isv.TEMPLATE_MISSING_PARAMETERS") as caught:
        send()

    assert caught.value.permanent


@pytest.mark.parametrize(
    ("code", "permanent"),
    [
        ("isv.MOBILE_NUMBER_ILLEGAL", True),
        ("isv.SMS_TEMPLATE_ILLEGAL", True),
        ("isv.TEMPLATE_MISSING_PARAMETERS", True),
        ("isv.AMOUNT_NOT_ENOUGH", True),
        ("isp.RAM_PERMISSION_DENY", True),
        ("isv.BUSINESS_LIMIT_CONTROL", False),
        ("isp.SYSTEM_ERROR", False),
        ("Throttling.User", False),
        ("SignatureNonceUsed", False),
    ],
)
def test_each_error_answer_is_permanent_or_not(gateway, code, permanent):
    gateway.fail(code)

    with pytest.raises(GatewayError, match=code) as caught:
        send()

    assert caught.value.permanent is permanent
    assert not gateway.messages
    assert send()  # the switch answered once; the next send goes through


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_server_failures_are_transient(gateway, status):
    gateway.fail_http(status)

    with pytest.raises(GatewayError, match=str(status)) as caught:
        send()

    assert not caught.value.permanent


def test_a_hung_gateway_times_out_as_transient(gateway):
    gateway.hang()

    with pytest.raises(GatewayError, match="Timeout") as caught:
        send()

    assert not caught.value.permanent


def test_a_dropped_connection_is_transient(gateway):
    gateway.drop()

    with pytest.raises(GatewayError, match="ConnectionError") as caught:
        send()

    assert not caught.value.permanent


def test_a_refused_connection_is_transient(settings):
    with FakeAliyunSms(templates=TEMPLATES) as fake:
        fake.configure(settings)
    # The fake has stopped: nothing listens on its port any more.

    with pytest.raises(GatewayError, match="ConnectionError") as caught:
        send()

    assert not caught.value.permanent


def test_without_a_registered_template_nothing_is_sent(gateway, settings):
    settings.SMS_TEMPLATES = {"code": TEMPLATES["code"]}

    with pytest.raises(GatewayError, match="no template") as caught:
        send(event="member_approved")

    assert caught.value.permanent
    assert gateway.received == []


def test_env_points_a_worker_process_at_the_fake(gateway):
    env = gateway.env()

    assert env["SMS_SENDER"] == "notices.gateways.aliyun.AliyunSender"
    assert env["ALIYUN_SMS_ENDPOINT"].startswith(gateway.url)
    assert all(isinstance(value, str) for value in env.values())


def test_a_worker_process_given_env_sends_through_the_fake(gateway):
    """The settings block reads these variables: a Celery worker started with them sends
    to the fake the test runs."""
    script = (
        "import django; django.setup();"
        "from notices.sms import send_sms;"
        f"print(send_sms(phone={PHONE!r}, text='x', event='member_approved', key='tb-9-sms'))"
    )
    env = {**os.environ, **gateway.env(), "DJANGO_SETTINGS_MODULE": "tests.settings"}

    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )

    assert done.returncode == 0, done.stderr
    [message] = gateway.messages
    assert done.stdout.strip() == message["reference"]
    assert (message["out_id"], message["params"]) == ("tb-9-sms", {"text": "x"})
