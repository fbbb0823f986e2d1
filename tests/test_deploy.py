"""Production settings: `check --deploy` finds nothing, HTTPS is required behind the proxy but
not on a laptop, and every page keeps the Content Security Policy (no inline script, style or
event handler, so script-src and style-src need no 'unsafe-inline')."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from django.views.defaults import server_error

from branches.models import ServiceBase
from ledger import selectors as ledger_selectors
from orders import services
from tests.factories import UserFactory
from tests.orders.conftest import HOUR, give_coins, seeded_category

# As production runs: behind a TLS proxy, with its own key and host name.
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "SECURE_SSL": "1",
    "ALLOWED_HOSTS": "timebank.example.cn",
}
LAPTOP = {"DEBUG": "1"}  # what `make run` sets


def _python(args: list[str], env: dict) -> subprocess.CompletedProcess:
    """Run in a fresh process with only ``env``: no DATABASE_URL, no REDIS_URL, real settings."""
    return subprocess.run(
        [sys.executable, *args],
        env={"DJANGO_SETTINGS_MODULE": "timebank.settings", "PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=str(settings.BASE_DIR),
        check=False,
    )


def _settings_of(env: dict, *names: str) -> dict:
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n) for n in {list(names)!r}}}))"
    )
    result = _python(["-c", code], env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_production_settings_pass_check_deploy_without_a_warning():
    result = _python(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], PRODUCTION)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNINGS" not in output and "?: (security" not in output, output
    assert "System check identified no issues (0 silenced)." in output


def test_production_requires_https_and_a_laptop_does_not():
    names = ("SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE")
    names += ("SECURE_HSTS_SECONDS",)
    assert list(_settings_of(PRODUCTION, *names).values()) == [True, True, True, 31536000]
    assert list(_settings_of(LAPTOP, *names).values()) == [False, False, False, 0]


@pytest.mark.django_db
def test_it_redirects_plain_http_but_trusts_the_proxy_and_lets_health_probes_in(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    plain = client.get("/")
    assert plain.status_code == 301
    assert plain.headers["Location"] == "https://testserver/"
    assert client.get("/", headers={"X-Forwarded-Proto": "https"}).status_code == 200
    assert client.get("/healthz").status_code == 200


@pytest.mark.django_db
def test_the_csrf_cookie_is_out_of_scripts_reach(client):
    client.get(reverse("account_login"))
    assert client.cookies[settings.CSRF_COOKIE_NAME]["httponly"] is True


# --- The Content Security Policy ---------------------------------------------------------


def _policy(response) -> dict[str, list[str]]:
    directives = (d.split() for d in response.headers["Content-Security-Policy"].split(";"))
    return {d[0]: d[1:] for d in directives if d}


class InlineCode(HTMLParser):
    """What a policy without 'unsafe-inline' refuses: inline scripts and styles, on* handler
    attributes and javascript: URLs. JSON data in <script type="application/json"> is fine."""

    EXECUTABLE = {"", "text/javascript", "application/javascript", "module"}

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        kind = (attrs.get("type") or "").lower()
        if tag == "script" and "src" not in attrs and kind in self.EXECUTABLE:
            self.found.append("<script> without src")
        if tag == "style":
            self.found.append("<style>")
        for name, value in attrs.items():
            if name.startswith("on") or name == "style":
                self.found.append(f"<{tag} {name}=…>")
            if (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}=javascript:…>")


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.found


def test_the_checker_finds_each_kind_of_inline_code():
    page = (
        '<script>alert(1)</script><script src="/static/a.js"></script>'
        '<script type="application/json">{"a": 1}</script><style>p{}</style>'
        '<p style="color:red" onclick="x()"><a href="javascript:x()">x</a></p>'
    )
    assert inline_code(page) == [
        "<script> without src",
        "<style>",
        "<p style=…>",
        "<p onclick=…>",
        "<a href=javascript:…>",
    ]


def serviced_need(*, base, base_staff, staff, head_office, volunteer, elder, district):
    """A service the volunteer has done for the elder at the base, awaiting the elder's
    rating, and a second published need the volunteer may still grab."""
    give_coins(ledger_selectors.base_account(base), 10 * HOUR, district=district)
    category = seeded_category("companionship-institution", "陪伴(机构)", "institution")

    def publish(starts_in: timedelta, title: str):
        req = services.post_request(
            actor=base_staff,
            category=category,
            title=title,
            base=base,
            recipient=elder,
            starts_at=timezone.now() + starts_in,
            duration_minutes=HOUR,
        )
        services.approve_by_street(service_request=req, actor=staff)
        services.approve_by_head_office(service_request=req, actor=head_office)
        req.refresh_from_db()
        return req

    done = publish(timedelta(minutes=10), "陪张阿婆聊天")
    assignment = services.grab_place(service_request=done, volunteer=volunteer)
    services.confirm_assignment(assignment=assignment, actor=base_staff)
    services.sign_in(assignment=assignment, actor=volunteer, code=done.checkin_code)
    services.complete_assignment(assignment=assignment, actor=base_staff, minutes=HOUR)
    return assignment, publish(timedelta(days=1), "明天陪张阿婆下棋")


@pytest.fixture
def site(base_a, base_staff_a, staff_a, head_office, volunteer, elder, district):
    """Each persona's pages, as (user or None, url)."""
    assignment, open_need = serviced_need(
        base=base_a,
        base_staff=base_staff_a,
        staff=staff_a,
        head_office=head_office,
        volunteer=volunteer,
        elder=elder,
        district=district,
    )
    done = assignment.request
    return [
        (None, "/"),
        (None, reverse("account_login")),
        (None, reverse("account_signup")),
        (None, "/no-such-page/"),
        (volunteer, reverse("orders:available")),
        (volunteer, reverse("orders:mine")),
        (volunteer, reverse("orders:checkin")),
        (volunteer, reverse("orders:detail", args=[open_need.pk])),
        (volunteer, reverse("accounts:profile")),
        (volunteer, reverse("ledger:my_coins")),
        (elder, reverse("orders:rate", args=[assignment.pk])),
        (base_staff_a, reverse("orders:card", args=[done.pk])),
        (base_staff_a, reverse("orders:new")),
        (head_office, reverse("admin:index")),
        (head_office, reverse("admin:orders_servicerequest_changelist")),
        (head_office, reverse("admin:orders_servicerequest_change", args=[done.pk])),
        (head_office, reverse("admin:orders_headofficequeuerequest_changelist")),
        (head_office, reverse("admin_policy")),
    ]


@pytest.mark.django_db
def test_member_and_admin_pages_carry_the_policy(client, site):
    for user, url in site:
        client.logout()
        if user:
            client.force_login(user)
        policy = _policy(client.get(url))
        assert policy["script-src"] == ["'self'"], url
        assert policy["style-src"] == ["'self'"], url
        assert (policy["object-src"], policy["frame-ancestors"]) == (["'none'"], ["'none'"]), url
        assert not any("'unsafe-" in source for sources in policy.values() for source in sources)


@pytest.mark.django_db
def test_no_page_of_the_site_holds_inline_code(client, site):
    for user, url in site:
        client.logout()
        if user:
            client.force_login(user)
        response = client.get(url)
        assert response.status_code in (200, 404), url
        assert inline_code(response.content.decode()) == [], url
    error_page = server_error(RequestFactory().get("/")).content.decode()
    assert inline_code(error_page) == []
    assert "css/site.css" in error_page


@pytest.mark.django_db
def test_a_scanned_pdf_goes_out_without_the_page_policy(client, street_a):
    # Chrome's PDF viewer is an <embed> that object-src 'none' would block.
    client.force_login(UserFactory())
    pdf = SimpleUploadedFile("licence.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    form = {
        "name": "新泾日间照料中心",
        "kind": "day_care",
        "street": street_a.pk,
        "address": "天山路100号",
        "licence_number": "沪民养2026-001",
        "contact_name": "刘主任",
        "contact_phone": "13811112222",
        "document": pdf,
    }
    assert client.post(reverse("branches:apply_for_base"), form).status_code == 302
    document = client.get(reverse("branches:base_document", args=[ServiceBase.objects.get().pk]))
    assert document["Content-Type"] == "application/pdf"
    assert "Content-Security-Policy" not in document.headers
    assert document["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
def test_a_form_sent_without_its_csrf_token_gets_the_sites_own_page(volunteer):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(volunteer)
    response = browser.post(reverse("ledger:my_coins"), {"anything": "1"})
    assert response.status_code == 403
    page = response.content.decode()
    assert "页面打开太久了" in page
    assert inline_code(page) == []
    assert "css/site.css" in page
