"""Local stand-ins for the outside gateways (Aliyun SMS, Tencent Cloud SMS, WeChat), speaking
each API's documented requests and answers on 127.0.0.1, started by the test, no network.

Each fake checks the request the way the real API does (signature with the test's secret,
template and its parameters, number) and records what it delivered::

    with FakeAliyunSms() as gateway:
        gateway.configure(settings)           # the pytest-django ``settings`` fixture
        ...                                   # code under test sends
        assert gateway.messages[0]["params"] == {"text": "…"}

For a worker subprocess, pass ``gateway.env()`` in its environment instead. Switches make
the next answers go wrong: ``fail(code)`` answers an API error, ``fail_http(503)`` a bare
HTTP status, ``hang()`` holds the request until the client gives up (or ``release()``),
``drop()`` closes the connection unanswered; each takes ``times=`` (None: until ``reset()``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, urlsplit

# Test credentials: each fake checks signatures with its own, and configure()/env() pass them on.
ALIYUN_KEY_ID, ALIYUN_SECRET = "LTAI-test-key", "test-secret"
TENCENT_SECRET_ID, TENCENT_SECRET_KEY = "AKID-test", "test-secret-key"
WECHAT_APP_ID, WECHAT_APP_SECRET = "wx-test-app", "test-app-secret"
HANG_SECONDS = 30  # the longest a hung request is held; stop() and release() end it sooner


class Answer:
    def __init__(self, status: int = 200, body: dict | None = None):
        self.status, self.body = status, body


class FakeServer:
    """An HTTP server in a thread; subclasses answer in ``answer(request)``."""

    def __init__(self):
        self.received: list[dict] = []  # every request: method, path, query, headers, body
        self.messages: list[dict] = []  # what was delivered
        self._plans: list[list] = []  # [kind, argument, times left or None]
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    # Running
    def start(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                fake._serve(self)

            def do_POST(self):
                fake._serve(self)

            def log_message(self, *args):
                pass

        self._released.clear()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self):
        self._released.set()
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # Switches
    def fail(self, code, *, times: int | None = 1):
        self._plan("error", code, times)

    def fail_http(self, status: int, *, times: int | None = 1):
        self._plan("http", status, times)

    def hang(self, *, times: int | None = 1):
        self._plan("hang", None, times)

    def drop(self, *, times: int | None = 1):
        self._plan("drop", None, times)

    def release(self):
        """Let hung requests go (they answer normally, to a client that may have left)."""
        self._released.set()

    def reset(self):
        with self._lock:
            self._plans.clear()

    def _plan(self, kind, argument, times):
        with self._lock:
            self._plans.append([kind, argument, times])

    def _next_plan(self):
        with self._lock:
            if not self._plans:
                return None
            plan = self._plans[0]
            if plan[2] is not None:
                plan[2] -= 1
                if plan[2] <= 0:
                    self._plans.pop(0)
            return plan[0], plan[1]

    # Serving
    def _serve(self, handler: BaseHTTPRequestHandler):
        length = int(handler.headers.get("Content-Length") or 0)
        parts = urlsplit(handler.path)
        request = {
            "method": handler.command,
            "path": parts.path,
            "query": dict(parse_qsl(parts.query, keep_blank_values=True)),
            "headers": {k.lower(): v for k, v in handler.headers.items()},
            "body": handler.rfile.read(length) if length else b"",
        }
        with self._lock:
            self.received.append(request)
        plan = self._next_plan() if self.plans_apply(request) else None
        kind = plan[0] if plan else None
        if kind == "drop":
            handler.close_connection = True
            return
        if kind == "hang":
            self._released.wait(HANG_SECONDS)
        if kind == "http":
            answer = Answer(plan[1], None)
        else:
            with self._lock:
                answer = self.answer(request, plan[1] if kind == "error" else None)
        if answer.body is None:
            data, content_type = b"<html><body>Service Unavailable</body></html>", "text/html"
        else:
            data = json.dumps(answer.body, ensure_ascii=False).encode()
            content_type = "application/json;charset=utf-8"
        try:
            handler.send_response(answer.status)
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except OSError:
            pass  # the client gave up (a hang)

    def answer(self, request: dict, error) -> Answer:
        raise NotImplementedError

    def plans_apply(self, request: dict) -> bool:
        return True


class FakeAliyunSms(FakeServer):
    """dysmsapi 2017-05-25 ``SendSms`` (RPC style, signature 1.0)."""

    SENDER = "notices.gateways.aliyun.AliyunSender"
    # Errors answered with a non-200 status by the real API; the rest come with 200.
    STATUS = {"SignatureDoesNotMatch": 400, "InvalidAccessKeyId.NotFound": 404}

    def __init__(
        self,
        *,
        access_key_id=ALIYUN_KEY_ID,
        access_key_secret=ALIYUN_SECRET,
        sign_name="时间银行",
        templates=None,
    ):
        super().__init__()
        self.access_key_id, self.access_key_secret, self.sign_name = (
            access_key_id,
            access_key_secret,
            sign_name,
        )
        # The settings' SMS_TEMPLATES; the fake knows each registered template's variables.
        self.sms_templates = templates or {
            "default": {"id": "SMS_100", "params": ["text"]},
            "code": {"id": "SMS_200", "params": ["code"]},
        }
        self.templates = {
            str(spec["id"]): list(spec["params"]) for spec in self.sms_templates.values()
        }

    def settings_values(self) -> dict:
        return {
            "SMS_SENDER": self.SENDER,
            "ALIYUN_SMS_ENDPOINT": f"{self.url}/",
            "ALIYUN_SMS_ACCESS_KEY_ID": self.access_key_id,
            "ALIYUN_SMS_ACCESS_KEY_SECRET": self.access_key_secret,
            "ALIYUN_SMS_SIGN_NAME": self.sign_name,
            "SMS_TEMPLATES": self.sms_templates,
        }

    def configure(self, settings):
        for name, value in self.settings_values().items():
            setattr(settings, name, value)

    def env(self) -> dict[str, str]:
        return {
            k: json.dumps(v) if isinstance(v, dict) else str(v)
            for k, v in self.settings_values().items()
        }

    def _error(self, code: str, message: str) -> Answer:
        return Answer(
            self.STATUS.get(code, 200),
            {"RequestId": str(uuid.uuid4()).upper(), "Code": code, "Message": message}
            | ({"HostId": "dysmsapi.aliyuncs.com"} if code in self.STATUS else {}),
        )

    def answer(self, request, error) -> Answer:
        params = dict(request["query"])
        params.update(parse_qsl(request["body"].decode(), keep_blank_values=True))
        given = params.pop("Signature", "")
        if params.get("AccessKeyId") != self.access_key_id:
            return self._error("InvalidAccessKeyId.NotFound", "Specified access key is not found.")
        expected = aliyun_signature(params, self.access_key_secret, request["method"])
        if not hmac.compare_digest(given, expected):
            return self._error(
                "SignatureDoesNotMatch", "Specified signature is not matched with our calculation."
            )
        for name, value in [
            ("Action", "SendSms"),
            ("Version", "2017-05-25"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureVersion", "1.0"),
            ("Format", "JSON"),
        ]:
            if params.get(name) != value:
                return self._error("InvalidParameter", f"{name} is not valid.")
        if error:
            return self._error(error, "Answer chosen by the test.")
        phone = params.get("PhoneNumbers", "")
        if not re.fullmatch(r"1\d{10}", phone):
            return self._error("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
        if params.get("SignName") != self.sign_name:
            return self._error("isv.SMS_SIGNATURE_ILLEGAL", "该账号下找不到对应签名")
        variables = self.templates.get(params.get("TemplateCode", ""))
        if variables is None:
            return self._error("isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板")
        try:
            values = json.loads(params.get("TemplateParam") or "{}")
        except ValueError:
            return self._error("isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值")
        if not isinstance(values, dict) or any(not isinstance(v, str) for v in values.values()):
            return self._error("isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值")
        if any(name not in values for name in variables):
            return self._error("isv.TEMPLATE_MISSING_PARAMETERS", "模板缺少变量")
        biz_id = f"{len(self.messages) + 1:06d}^{uuid.uuid4().int % 10**10:010d}"
        self.messages.append(
            {
                "phone": phone,
                "sign_name": params["SignName"],
                "template": params["TemplateCode"],
                "params": values,
                "out_id": params.get("OutId", ""),
                "reference": biz_id,
            }
        )
        return Answer(
            200,
            {"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": str(uuid.uuid4())},
        )


class FakeTencentSms(FakeServer):
    """Tencent Cloud SMS API 3.0 ``SendSms``, version 2021-01-11 (TC3-HMAC-SHA256)."""

    SENDER = "notices.gateways.tencent.TencentSender"
    # Errors the real API reports per number in SendStatusSet; the rest are top-level.
    PER_NUMBER = re.compile(
        r"LimitExceeded\..*|InvalidParameterValue\.IncorrectPhoneNumber|"
        r"FailedOperation\.(PhoneNumberInBlacklist|ContainSensitiveWord)"
    )

    def __init__(
        self,
        *,
        secret_id=TENCENT_SECRET_ID,
        secret_key=TENCENT_SECRET_KEY,
        sdk_app_id="1400000001",
        sign_name="时间银行",
        region="ap-guangzhou",
        templates=None,
    ):
        super().__init__()
        self.secret_id, self.secret_key = secret_id, secret_key
        self.sdk_app_id, self.sign_name, self.region = sdk_app_id, sign_name, region
        self.sms_templates = templates or {
            "default": {"id": "1100", "params": ["text"]},
            "code": {"id": "1200", "params": ["code"]},
        }
        self.templates = {
            str(spec["id"]): list(spec["params"]) for spec in self.sms_templates.values()
        }
        self._serials = itertools.count(1)

    def settings_values(self) -> dict:
        return {
            "SMS_SENDER": self.SENDER,
            "TENCENT_SMS_ENDPOINT": f"{self.url}/",
            "TENCENT_SMS_SECRET_ID": self.secret_id,
            "TENCENT_SMS_SECRET_KEY": self.secret_key,
            "TENCENT_SMS_SDK_APP_ID": self.sdk_app_id,
            "TENCENT_SMS_SIGN_NAME": self.sign_name,
            "TENCENT_SMS_REGION": self.region,
            "SMS_TEMPLATES": self.sms_templates,
        }

    configure = FakeAliyunSms.configure
    env = FakeAliyunSms.env

    @staticmethod
    def _error(code: str, message: str) -> Answer:
        return Answer(
            200, {"Response": {"Error": {"Code": code, "Message": message}, "RequestId": _rid()}}
        )

    def _check_signature(self, request) -> Answer | None:
        headers = request["headers"]
        match = re.fullmatch(
            r"TC3-HMAC-SHA256 Credential=([^/]+)/(\d{4}-\d{2}-\d{2})/sms/tc3_request, "
            r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})",
            headers.get("authorization", ""),
        )
        if not match:
            return self._error(
                "AuthFailure.InvalidAuthorization", "Authorization header is invalid."
            )
        secret_id, _date, signed_names, given = match.groups()
        if secret_id != self.secret_id:
            return self._error("AuthFailure.SecretIdNotFound", "The SecretId is not found.")
        try:
            timestamp = int(headers.get("x-tc-timestamp", ""))
        except ValueError:
            return self._error("MissingParameter", "X-TC-Timestamp is missing.")
        if abs(time.time() - timestamp) > 300:
            return self._error("AuthFailure.SignatureExpire", "Signature expired.")
        signed = {name: headers.get(name, "") for name in signed_names.split(";")}
        if "host" not in signed or "content-type" not in signed:
            return self._error("AuthFailure.InvalidAuthorization", "host/content-type unsigned.")
        expected = tc3_signature(
            secret_key=self.secret_key, timestamp=timestamp, signed=signed, payload=request["body"]
        )
        if not hmac.compare_digest(given, expected):
            return self._error(
                "AuthFailure.SignatureFailure",
                "The provided credentials could not be validated. "
                "Please check your signature is correct.",
            )
        return None

    def answer(self, request, error) -> Answer:
        refused = self._check_signature(request)
        if refused:
            return refused
        headers = request["headers"]
        if headers.get("x-tc-action") != "SendSms":
            return self._error("InvalidAction", "The action is not found.")
        if headers.get("x-tc-version") != "2021-01-11":
            return self._error("NoSuchVersion", "The version is not found.")
        if headers.get("x-tc-region") != self.region:
            return self._error("InvalidParameterValue", "Region is not valid.")
        try:
            body = json.loads(request["body"])
        except ValueError:
            return self._error("FailedOperation.FailResolvePacket", "Failed to parse the body.")
        if error and not self.PER_NUMBER.fullmatch(error):
            return self._error(error, "Answer chosen by the test.")
        if body.get("SmsSdkAppId") != self.sdk_app_id:
            return self._error("InvalidParameterValue.SdkAppIdNotExist", "SdkAppId not exist.")
        if body.get("SignName") != self.sign_name:
            return self._error(
                "FailedOperation.SignatureIncorrectOrUnapproved", "signature format is error"
            )
        variables = self.templates.get(str(body.get("TemplateId")))
        values = body.get("TemplateParamSet") or []
        if (
            variables is None
            or len(values) != len(variables)
            or not all(isinstance(v, str) for v in values)
        ):
            return self._error(
                "FailedOperation.TemplateIncorrectOrUnapproved",
                "template is not approved or request content does not match the approved "
                "template content",
            )
        statuses = []
        for phone in body.get("PhoneNumberSet") or []:
            code = error
            if not code and not re.fullmatch(r"\+861\d{10}", phone):
                code = "InvalidParameterValue.IncorrectPhoneNumber"
            status = {
                "SerialNo": "",
                "PhoneNumber": phone,
                "Fee": 0,
                "SessionContext": body.get("SessionContext", ""),
                "Code": code or "Ok",
                "Message": "answer chosen by the test" if error else "send success",
                "IsoCode": "CN",
            }
            if not code:
                status["SerialNo"] = f"2028:{next(self._serials):08d}"
                status["Fee"] = 1
                self.messages.append(
                    {
                        "phone": phone,
                        "sign_name": body["SignName"],
                        "template": str(body["TemplateId"]),
                        "params": values,
                        "session_context": body.get("SessionContext", ""),
                        "reference": status["SerialNo"],
                    }
                )
            statuses.append(status)
        return Answer(200, {"Response": {"SendStatusSet": statuses, "RequestId": _rid()}})


class FakeWeChat(FakeServer):
    """The official-account API: ``/cgi-bin/token`` and ``/cgi-bin/message/template/send``.

    Honours ``client_msg_id``: a second send with the same touser and client_msg_id answers
    the first msgid and is not delivered again. The switches (fail, fail_http, hang, drop)
    affect sends only; ``fail_token(code)`` the token endpoint; ``expire_tokens()`` makes the
    tokens issued so far expire (42001) and clearing ``tokens`` makes them unknown (40001).
    """

    TOKEN_PATH = "/cgi-bin/token"
    SEND_PATH = "/cgi-bin/message/template/send"

    def __init__(
        self,
        *,
        app_id=WECHAT_APP_ID,
        app_secret=WECHAT_APP_SECRET,
        templates=None,
        unsubscribed=(),
    ):
        super().__init__()
        self.app_id, self.app_secret = app_id, app_secret
        self.wechat_templates = templates or {
            "default": {"template_id": "TPL-default", "data": {"thing1": "title", "thing2": "body"}}
        }
        self.templates = {
            spec["template_id"]: list(spec.get("data") or {"thing1": 0, "thing2": 0})
            for spec in self.wechat_templates.values()
        }
        self.unsubscribed = set(unsubscribed)
        self.token_requests: list[dict] = []
        self.tokens: dict[str, bool] = {}  # token -> still valid
        self.duplicates = 0
        self._sent: dict[tuple[str, str], int] = {}
        self._token_errors: list[list] = []
        self._msgids = itertools.count(1_000_001)

    def settings_values(self) -> dict:
        return {
            "WECHAT_MP_API": self.url,
            "WECHAT_MP_APP_ID": self.app_id,
            "WECHAT_MP_APP_SECRET": self.app_secret,
            "WECHAT_TEMPLATES": self.wechat_templates,
        }

    configure = FakeAliyunSms.configure
    env = FakeAliyunSms.env

    def fail_token(self, code: int, *, times: int | None = 1):
        with self._lock:
            self._token_errors.append([code, times])

    def expire_tokens(self):
        with self._lock:
            self.tokens = dict.fromkeys(self.tokens, False)

    def reset(self):
        super().reset()
        with self._lock:
            self._token_errors.clear()

    @staticmethod
    def _error(code: int, message: str) -> Answer:
        return Answer(200, {"errcode": code, "errmsg": f"{message} rid: {uuid.uuid4().hex[:24]}"})

    def answer(self, request, error) -> Answer:
        if request["path"] == self.TOKEN_PATH and request["method"] == "GET":
            return self._token(request["query"])
        if request["path"] == self.SEND_PATH and request["method"] == "POST":
            return self._send(request, error)
        return Answer(404, {"errcode": 404, "errmsg": "not found"})

    def plans_apply(self, request) -> bool:
        return request["path"] == self.SEND_PATH

    def _token(self, query) -> Answer:
        self.token_requests.append(query)
        if self._token_errors:
            plan = self._token_errors[0]
            if plan[1] is not None:
                plan[1] -= 1
                if plan[1] <= 0:
                    self._token_errors.pop(0)
            return self._error(plan[0], "answer chosen by the test")
        if query.get("grant_type") != "client_credential":
            return self._error(40002, "invalid grant_type")
        if query.get("appid") != self.app_id:
            return self._error(40013, "invalid appid")
        if query.get("secret") != self.app_secret:
            return self._error(40125, "invalid appsecret")
        token = f"token-{len(self.tokens) + 1}-{uuid.uuid4().hex[:8]}"
        self.tokens[token] = True
        return Answer(200, {"access_token": token, "expires_in": 7200})

    def _send(self, request, error) -> Answer:
        token = request["query"].get("access_token", "")
        if token not in self.tokens:
            return self._error(40001, "invalid credential, access_token is invalid or not latest")
        if not self.tokens[token]:
            return self._error(42001, "access_token expired")
        try:
            message = json.loads(request["body"])
        except ValueError:
            return self._error(47001, "data format error")
        if error:
            return self._error(error, "answer chosen by the test")
        openid = message.get("touser", "")
        if not re.fullmatch(r"[A-Za-z0-9_-]{6,64}", openid):
            return self._error(40003, "invalid openid")
        fields = self.templates.get(message.get("template_id"))
        if fields is None:
            return self._error(40037, "invalid template_id")
        if openid in self.unsubscribed:
            return self._error(43004, "require subscribe")
        data = message.get("data") or {}
        for field in fields:
            value = (data.get(field) or {}).get("value")
            if not isinstance(value, str) or (field.startswith("thing") and len(value) > 20):
                return self._error(47003, f"argument invalid! data.{field}.value invalid")
        client_msg_id = message.get("client_msg_id") or ""
        if client_msg_id and (openid, client_msg_id) in self._sent:
            self.duplicates += 1
            msgid = self._sent[openid, client_msg_id]
        else:
            msgid = next(self._msgids)
            if client_msg_id:
                self._sent[openid, client_msg_id] = msgid
            self.messages.append(
                {
                    "openid": openid,
                    "template_id": message["template_id"],
                    "url": message.get("url", ""),
                    "data": {field: data[field]["value"] for field in fields},
                    "client_msg_id": client_msg_id,
                    "reference": str(msgid),
                }
            )
        return Answer(200, {"errcode": 0, "errmsg": "ok", "msgid": msgid})


def _rid() -> str:
    return str(uuid.uuid4())


# The fakes check signatures with their own code, written from each API's documentation
# (not the adapters'), so an adapter's mistake is caught as the real API would catch it.


def aliyun_signature(params: dict[str, str], secret: str, method: str = "POST") -> str:
    """Aliyun RPC signature 1.0: HMAC-SHA1 over METHOD&%2F&encoded(sorted query)."""

    def encode(value) -> str:
        return quote(str(value), safe="~")  # RFC 3986: space %20, * %2A, ~ kept

    query = "&".join(f"{encode(k)}={encode(params[k])}" for k in sorted(params))
    to_sign = f"{method}&{encode('/')}&{encode(query)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def tc3_signature(
    *, secret_key: str, timestamp: int, signed: dict[str, str], payload: bytes, service="sms"
) -> str:
    """Tencent Cloud TC3-HMAC-SHA256 over a POST to "/" with no query string."""
    headers = "".join(f"{k.lower()}:{v.strip().lower()}\n" for k, v in signed.items())
    canonical = "\n".join(
        ["POST", "/", "", headers, ";".join(signed), hashlib.sha256(payload).hexdigest()]
    )
    date = time.strftime("%Y-%m-%d", time.gmtime(timestamp))
    to_sign = "\n".join(
        [
            "TC3-HMAC-SHA256",
            str(timestamp),
            f"{date}/{service}/tc3_request",
            hashlib.sha256(canonical.encode()).hexdigest(),
        ]
    )
    key = f"TC3{secret_key}".encode()
    for part in (date, service, "tc3_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
