import subprocess
import sys

import pytest
from django.conf import settings
from django.urls import reverse


@pytest.mark.django_db
def test_it_serves_the_home_page_in_chinese_by_default(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'lang="zh-hans"' in body
    assert "时间银行" in body


@pytest.mark.django_db
def test_it_switches_to_english_and_back(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    body = client.get("/").content.decode()
    assert 'lang="en"' in body
    assert "Elderly-care Time Bank" in body
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert 'lang="zh-hans"' in client.get("/").content.decode()


@pytest.mark.django_db
def test_it_tags_responses_with_a_request_id(client):
    response = client.get("/", HTTP_X_REQUEST_ID="0123456789abcdef0123456789abcdef")
    assert response.headers["X-Request-ID"] == "0123456789abcdef0123456789abcdef"
    assert len(client.get("/").headers["X-Request-ID"]) >= 32


@pytest.mark.django_db
def test_healthz_reports_each_service(client, settings):  # noqa: F811
    response = client.get("/healthz")
    assert response.status_code == 200
    data = response.json()
    assert data["status"] == "ok"
    assert data["database"] == "ok"
    assert data["cache"] == "ok"
    expected_broker = "eager" if settings.CELERY_TASK_ALWAYS_EAGER else "ok"
    assert data["broker"] == expected_broker


@pytest.mark.django_db
def test_healthz_answers_503_when_the_broker_is_down(client, settings):  # noqa: F811
    from timebank.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = False
    original = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    try:
        response = client.get("/healthz")
    finally:
        app.conf.broker_url = original
    assert response.status_code == 503
    assert response.json()["broker"].startswith("down")
    assert response.json()["status"] == "down"


def _run(code: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        env={"DJANGO_SETTINGS_MODULE": "timebank.settings", "PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=str(settings.BASE_DIR),
        check=False,
    )


START_WEB = "import timebank.wsgi"
START_WORKER = (
    "import django; django.setup()\n"
    "from celery.signals import worker_init\n"
    "from timebank.celery import app\n"
    "worker_init.send(sender=None)"
)


@pytest.mark.parametrize("start", [START_WEB, START_WORKER], ids=["web", "worker"])
def test_production_refuses_the_default_secret_key(start):
    result = _run(start, {"DEBUG": "0"})
    assert result.returncode != 0
    assert "SECRET_KEY is the development default" in result.stderr


@pytest.mark.parametrize("start", [START_WEB, START_WORKER], ids=["web", "worker"])
def test_production_starts_with_a_real_secret_key(start):
    result = _run(start, {"DEBUG": "0", "SECRET_KEY": "a-real-key-from-the-vault-123"})
    assert result.returncode == 0, result.stderr


def test_developer_commands_run_without_any_settings():
    result = _run("import django; django.setup()", {})
    assert result.returncode == 0, result.stderr


def test_favicon_ico_points_at_the_site_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response.headers["Location"].endswith("favicon.svg")


@pytest.mark.django_db
def test_admin_login_goes_through_the_phone_login(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith(reverse("account_login"))
    assert "next=%2Fadmin%2F" in response.headers["Location"]


@pytest.mark.django_db
def test_admin_login_refuses_a_logged_in_member_who_is_not_staff(client):
    from accounts.models import User

    client.force_login(User.objects.create(username="member-only"))
    assert client.get("/admin/login/").status_code == 403


def test_password_rules_speak_chinese_on_a_chinese_page():
    from django.contrib.auth.password_validation import MinimumLengthValidator
    from django.core.exceptions import ValidationError
    from django.utils import translation

    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        MinimumLengthValidator().validate("abc")
    assert refused.value.messages == ["密码太短，至少需要 8 个字符。"]


@pytest.mark.django_db
def test_a_missing_page_says_so_in_chinese_with_a_way_home(client, settings):
    settings.DEBUG = False
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert 'lang="zh-hans"' in body and "找不到" in body and 'href="/"' in body


@pytest.mark.django_db
def test_a_forbidden_page_says_so_in_chinese(client, settings):
    from accounts.models import User

    settings.DEBUG = False
    client.force_login(User.objects.create(username="member-only-403"))
    response = client.get("/admin/login/")
    assert response.status_code == 403
    assert "不对您的账号开放" in response.content.decode()


@pytest.mark.django_db
def test_the_home_page_and_health_check_answer_head_as_load_balancers_ask(client):
    assert client.head(reverse("home")).status_code == 200
    assert client.head("/healthz").status_code == 200
    assert client.post(reverse("home")).status_code == 405
