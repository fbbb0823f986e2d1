"""Tencent Cloud SMS adapter against the local fake API 3.0 (tests/notices/fakes.py)."""

import hashlib

import pytest

from accounts.adapter import AccountAdapter
from notices.gateways import GatewayError, tencent
from notices.sms import send_sms
from tests.notices import fakes
from tests.notices.fakes import FakeTencentSms

PHONE = "+8613912345678"
TEMPLATES = {
    "default": {"id": "1100", "params": ["text"]},
    "code": {"id": "1200", "params": ["code"]},
    "service_tomorrow": {"id": "1300", "params": ["title", "when", "place"]},
}
# Tencent Cloud's worked example for TC3-HMAC-SHA256 (CVM DescribeInstances).
DOC = {
    "secret_key": "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
    "timestamp": 1551113065,
    "signed": {
        "content-type": "application/json; charset=utf-8",
        "host": "cvm.tencentcloudapi.com",
    },
    "payload": b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], '
    b'"Name": "instance-name"}]}',
    "service": "cvm",
}
DOC_PAYLOAD_HASH = "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
DOC_SIGNATURE = "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"


@pytest.fixture
def gateway(settings):
    with FakeTencentSms(templates=TEMPLATES) as fake:
        fake.configure(settings)
        settings.GATEWAY_TIMEOUT_SECONDS = 0.5
        yield fake


def send(**kwargs):
    return send_sms(**{"phone": PHONE, "text": "时间银行：您的报名已通过。", **kwargs})


def test_it_signs_as_the_documentation_example():
    assert hashlib.sha256(DOC["payload"]).hexdigest() == DOC_PAYLOAD_HASH
    assert tencent.tc3_signature(**DOC) == DOC_SIGNATURE
    assert fakes.tc3_signature(**DOC) == DOC_SIGNATURE


def test_it_sends_the_default_template_carrying_the_text(gateway):
    ref = send(event="member_approved", key="tb-7-sms")

    [message] = gateway.messages
    assert ref == message["reference"] != ""
    assert message["phone"] == PHONE
    assert message["template"] == "1100"
    assert message["params"] == ["时间银行：您的报名已通过。"]
    assert message["session_context"] == "tb-7-sms"
    assert message["sign_name"] == gateway.sign_name


def test_a_national_number_is_sent_in_e164(gateway):
    send(phone="13912345678")

    assert gateway.messages[0]["phone"] == PHONE


def test_it_sends_an_events_template_with_params_in_the_templates_order(gateway):
    params = {"place": "长宁路 1 号", "when": "2026-12-04 09:00", "title": "陪老人散步", "coins": 3}

    send(event="service_tomorrow", params=params)

    [message] = gateway.messages
    assert message["template"] == "1300"
    assert message["params"] == [params["title"], params["when"], params["place"]]


def test_login_codes_from_the_phone_flow_use_the_code_template(gateway):
    AccountAdapter().send_verification_code_sms(user=None, phone=PHONE, code="482913")

    [message] = gateway.messages
    assert (message["template"], message["params"]) == ("1200", ["482913"])


def test_a_wrong_secret_key_is_refused_as_a_signature_failure(gateway, settings):
    settings.TENCENT_SMS_SECRET_KEY = "not-the-key"

    with pytest.raises(GatewayError, match="AuthFailure.SignatureFailure") as caught:
        send()

    assert caught.value.permanent
    assert gateway.received and not gateway.messages


def test_an_unknown_secret_id_is_permanent(gateway, settings):
    settings.TENCENT_SMS_SECRET_ID = "AKID-nobody"

    with pytest.raises(GatewayError, match="AuthFailure.SecretIdNotFound") as caught:
        send()

    assert caught.value.permanent


def test_an_invalid_number_fails_in_its_send_status_as_permanent(gateway):
    with pytest.raises(GatewayError, match="IncorrectPhoneNumber") as caught:
        send(phone="+86123")

    assert caught.value.permanent and not gateway.messages


def test_a_template_with_other_variables_is_permanent(gateway):
    gateway.templates["1100"] = ["text", "name"]

    with pytest.raises(GatewayError, match="TemplateIncorrectOrUnapproved") as caught:
        send()

    assert caught.value.permanent


@pytest.mark.parametrize(
    ("code", "permanent"),
    [
        # top-level errors
        ("FailedOperation.TemplateIncorrectOrUnapproved", True),
        ("FailedOperation.SignatureIncorrectOrUnapproved", True),
        ("UnauthorizedOperation.RequestIpNotInWhitelist", True),
        ("InternalError.Timeout", False),
        ("RequestLimitExceeded", False),
        # errors reported per number in SendStatusSet
        ("InvalidParameterValue.IncorrectPhoneNumber", True),
        ("FailedOperation.PhoneNumberInBlacklist", True),
        ("LimitExceeded.PhoneNumberDailyLimit", True),
        ("LimitExceeded.PhoneNumberThirtySecondLimit", False),
        ("LimitExceeded.PhoneNumberOneHourLimit", False),
        ("LimitExceeded.DeliveryFrequencyLimit", False),
    ],
)
def test_each_error_answer_is_permanent_or_not(gateway, code, permanent):
    gateway.fail(code)

    with pytest.raises(GatewayError, match=code) as caught:
        send()

    assert caught.value.permanent is permanent
    assert not gateway.messages
    assert send()  # the switch answered once; the next send goes through


@pytest.mark.parametrize("status", [500, 503])
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
