"""When the database goes away: the 503 page, nothing half-done, the next request works,
and Celery tasks try again. The server really drops the connection: a second connection
terminates this one's backend (pg_terminate_backend) in the middle of the work."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest
from celery.signals import task_retry
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.db import OperationalError, connection, transaction
from django.db.models import Sum
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from ledger.models import Account, DailyCredit, Transfer
from orders import services
from orders.models import Assignment, OrderEvent, Place, ServiceRequest
from orders.tasks import expire_requests
from tests.orders.conftest import HOUR, give_coins, seeded_category
from timebank.celery import app
from timebank.outages import BUSY, LOST, DatabaseTask, outage_kind

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def second_connection(*, autocommit: bool = True) -> psycopg.Connection:
    db = connection.settings_dict
    return psycopg.connect(
        dbname=db["NAME"],
        user=db["USER"],
        password=db["PASSWORD"],
        host=db["HOST"],
        port=db["PORT"] or None,
        autocommit=autocommit,
    )


def terminate(pid: int) -> None:
    with second_connection() as other:
        # The timeout makes it wait until the backend is gone, so the next query fails.
        assert other.execute("SELECT pg_terminate_backend(%s, 5000)", [pid]).fetchone()[0]


class Killer:
    """An execute wrapper: terminates our backend just before the query ``when`` picks runs.

    ``when(n, sql)`` sees the number of each query and its SQL; at most ``limit`` kills.
    """

    def __init__(self, when, *, limit: int | None = 1):
        self.when, self.limit = when, limit
        self.seen = self.kills = 0
        self.in_transaction = None

    def __call__(self, execute, sql, params, many, context):
        self.seen += 1
        if (self.limit is None or self.kills < self.limit) and self.when(self.seen, sql):
            db = context["connection"]
            self.in_transaction = db.in_atomic_block
            terminate(db.connection.info.backend_pid)
            self.kills += 1
        return execute(sql, params, many, context)


def posted_need(*, base_staff_a, base_a, title: str) -> ServiceRequest:
    """A one-hour, one-place need of 天山养老院 starting tomorrow, waiting for the street."""
    return services.post_request(
        actor=base_staff_a,
        category=seeded_category("companionship-institution", "陪伴(机构)", "institution"),
        title=title,
        base=base_a,
        starts_at=timezone.now() + timedelta(days=1),
        duration_minutes=HOUR,
        places=1,
    )


def published_need(*, base_staff_a, base_a, staff_a, head_office, district) -> ServiceRequest:
    """A published need of 天山养老院 with one place, paid from the base's coins."""
    from ledger import selectors as ledger_selectors

    give_coins(ledger_selectors.base_account(base_a), 10 * HOUR, district=district)
    req = posted_need(base_staff_a=base_staff_a, base_a=base_a, title="陪伴聊天")
    services.approve_by_street(service_request=req, actor=staff_a)
    services.approve_by_head_office(service_request=req, actor=head_office)
    return req


@pytest.fixture
def need(base_staff_a, base_a, staff_a, head_office, district):
    return published_need(
        base_staff_a=base_staff_a,
        base_a=base_a,
        staff_a=staff_a,
        head_office=head_office,
        district=district,
    )


def snapshot(need) -> dict:
    """Everything a grab writes: rows, the need's counter and places, the ledger's totals."""
    return {
        "assignments": Assignment.objects.count(),
        "events": OrderEvent.objects.count(),
        "transfers": Transfer.objects.count(),
        "daily": DailyCredit.objects.count(),
        "filled": ServiceRequest.objects.get(pk=need.pk).filled,
        "places": list(Place.objects.filter(request=need).values_list("state", flat=True)),
        "totals": Account.objects.aggregate(
            Sum("posted_debits"),
            Sum("posted_credits"),
            Sum("pending_debits"),
            Sum("pending_credits"),
        ),
    }


def test_it_answers_503_when_the_connection_dies_then_200_on_the_next_request(client, volunteer):
    client.force_login(volunteer)
    url = reverse("orders:mine")
    killer = Killer(lambda n, sql: n == 3)  # the session, the user, then the page's first
    with connection.execute_wrapper(killer):
        response = client.get(url)
    assert killer.kills == 1
    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert "请稍后重试" in response.content.decode()
    assert killer.seen == 3, "the 503 page itself must not query the database"
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_it_writes_nothing_when_the_connection_dies_mid_grab_then_the_grab_works(
    client, volunteer, need, htmx
):
    client.force_login(volunteer)
    url = reverse("orders:grab", args=[need.pk])
    headers = {"HX-Request": "true", "HX-Target": f"need-{need.pk}"} if htmx else {}
    before = snapshot(need)
    # Dies at the coins' reservation: the need's counter, its place and the assignment are
    # already written in the open transaction (orders_take_place).
    killer = Killer(lambda n, sql: sql.startswith("SELECT ledger_one_transfer"))
    with connection.execute_wrapper(killer):
        response = client.post(url, headers=headers)
    assert killer.kills == 1 and killer.in_transaction
    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    body = response.content.decode()
    assert "请稍后重试" in body
    assert ("<html" in body) is not htmx
    assert response.get("HX-Reswap") == ("afterbegin" if htmx else None)
    assert snapshot(need) == before

    again = client.post(url, headers=headers)
    assert again.status_code == (200 if htmx else 302)
    assert Assignment.objects.get(request=need).volunteer == volunteer
    assert ServiceRequest.objects.get(pk=need.pk).filled == 1


def test_it_answers_503_busy_when_the_need_stays_locked_by_another_transaction(
    client, volunteer, need, caplog
):
    client.force_login(volunteer)
    url = reverse("orders:grab", args=[need.pk])
    table = ServiceRequest._meta.db_table
    with second_connection(autocommit=False) as other:
        other.execute(f"SELECT 1 FROM {table} WHERE id = %s FOR UPDATE", [need.pk])
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '100ms'")
        try:
            response = client.post(url)
        finally:
            other.rollback()
            with connection.cursor() as cursor:
                cursor.execute("RESET lock_timeout")
    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert "系统繁忙，请稍后再试" in response.content.decode()
    assert "database busy (ServiceBusy)" in caplog.text
    assert not Assignment.objects.exists()
    assert client.post(url).status_code == 302
    assert Assignment.objects.filter(request=need, volunteer=volunteer).exists()


def load_the_user_first(get_response):
    """A middleware that reads the database before the view, as an eager login check would."""

    def middleware(request):
        assert request.user.is_authenticated is not None
        return get_response(request)

    return middleware


def test_it_answers_503_when_the_connection_dies_in_a_middleware(client, volunteer, settings):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "tests.test_outages.load_the_user_first"]
    client.raise_request_exception = False  # Django answers with handler500 here
    client.force_login(volunteer)
    url = reverse("orders:mine")
    killer = Killer(lambda n, sql: n == 1)  # the session, read by the middleware
    with connection.execute_wrapper(killer):
        response = client.get(url)
    assert killer.kills == 1
    assert response.status_code == 503
    assert "请稍后重试" in response.content.decode()
    assert client.get(url).status_code == 200


def wsgi_get(path: str, session_key: str) -> int:
    """A request through the real WSGI handler, which (unlike the test client) sends the
    request_started and request_finished signals that manage persistent connections."""
    cookie = f"{settings.SESSION_COOKIE_NAME}={session_key}"
    environ = RequestFactory().get(path, HTTP_COOKIE=cookie).environ
    statuses = []

    def start_response(status, headers, exc_info=None):
        statuses.append(status)

    response = WSGIHandler()(environ, start_response)
    b"".join(response)
    response.close()
    return int(statuses[0].split()[0])


def test_it_reconnects_when_the_server_dropped_a_kept_connection(client, volunteer):
    assert connection.settings_dict["CONN_HEALTH_CHECKS"]
    client.force_login(volunteer)
    session_key = client.session.session_key
    url = reverse("orders:mine")
    assert wsgi_get(url, session_key) == 200
    assert connection.connection is not None, "CONN_MAX_AGE keeps the connection"
    kept = connection.connection.info.backend_pid
    terminate(kept)  # a server restart between two requests
    assert wsgi_get(url, session_key) == 200
    assert connection.connection.info.backend_pid != kept


@pytest.fixture
def asked(monkeypatch) -> list:
    """One entry each time a connection is asked ``SELECT 1`` (Django's own check, which
    ours calls only when the server has spoken), the question still sent."""
    from django.db.backends.postgresql.base import DatabaseWrapper as Django

    asked, django_check = [], Django.is_usable
    monkeypatch.setattr(Django, "is_usable", lambda self: asked.append(1) or django_check(self))
    return asked


def test_a_kept_connection_is_asked_select_1_only_when_the_server_has_spoken(asked):
    """The health check at the start of a request reads the socket: a healthy kept
    connection costs no round trip; one the server ended is questioned and dropped, and the
    next query opens a fresh one."""
    assert connection.settings_dict["ENGINE"] == "timebank.postgresql"
    assert connection.settings_dict["CONN_HEALTH_CHECKS"]

    def request_starts() -> None:  # what Django does once per request, before a query
        connection.health_check_done = False
        connection.close_if_health_check_failed()

    connection.ensure_connection()
    kept = connection.connection.info.backend_pid
    for _ in range(3):
        request_starts()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    assert asked == [], "no SELECT 1 on a connection with nothing to read"
    assert connection.connection.info.backend_pid == kept
    terminate(kept)
    request_starts()
    assert asked == [1]
    assert connection.connection is None  # dropped, not used
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != kept


def test_the_health_check_reads_a_socket_numbered_past_1024(asked):
    """select() refuses a descriptor of 1024 or more; a busy process has them, and every
    request then reconnected (as CI's long single run showed). poll() has no such limit."""
    import os
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1200:
        pytest.skip("this machine allows fewer than 1200 open files")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1200), hard))
    filler = []
    connection.close()  # its descriptor, a low one, is not the next one given out
    try:
        while not filler or filler[-1] < 1100:
            filler.append(os.open(os.devnull, os.O_RDONLY))
        connection.ensure_connection()
        assert connection.connection.fileno() >= 1024
        kept = connection.connection.info.backend_pid
        connection.health_check_done = False
        connection.close_if_health_check_failed()
        assert connection.connection is not None
        assert connection.connection.info.backend_pid == kept
        assert asked == []
        terminate(kept)
        connection.health_check_done = False
        connection.close_if_health_check_failed()
        assert asked == [1] and connection.connection is None
    finally:
        connection.close()
        for fd in filler:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_it_tells_an_outage_from_an_error_that_a_retry_cannot_cure():
    def error_of(sql: str) -> OperationalError:
        with pytest.raises(OperationalError) as caught, transaction.atomic():
            connection.cursor().execute(sql)
        return caught.value

    # 55000 object_not_in_prerequisite_state: a bug, for the 500 page and its trace.
    bug = error_of("CREATE TEMP SEQUENCE never_used; SELECT currval('never_used')")
    assert outage_kind(bug) is None
    timeout = error_of("SET LOCAL statement_timeout = '10ms'; SELECT pg_sleep(1)")
    assert outage_kind(timeout) == BUSY
    pid = connection.connection.info.backend_pid
    terminate(pid)
    assert outage_kind(error_of("SELECT 1")) == LOST


# --- Celery tasks -----------------------------------------------------------------------


@pytest.fixture
def stale_need(base_staff_a, base_a):
    """A need that was never approved and whose start has passed: expire_requests expires it."""
    req = posted_need(base_staff_a=base_staff_a, base_a=base_a, title="过期需求")
    ServiceRequest.objects.filter(pk=req.pk).update(starts_at=timezone.now() - timedelta(hours=1))
    return req


@pytest.fixture
def retries():
    """The retries Celery announced, in order.

    A worker retries a failed task. So does ``apply()``, on the spot, but only when eager
    errors do not propagate: with ``task_eager_propagates`` the Retry reaches the caller.
    """
    propagates, app.conf.task_eager_propagates = app.conf.task_eager_propagates, False
    seen = []

    def count(sender, reason, **kwargs):
        seen.append(reason.exc)

    task_retry.connect(count, weak=False)
    yield seen
    task_retry.disconnect(count)
    app.conf.task_eager_propagates = propagates


@pytest.mark.parametrize(
    "when",
    [
        pytest.param(lambda n, sql: n == 1, id="between-transactions"),
        pytest.param(
            lambda n, sql: sql.startswith('UPDATE "orders_servicerequest"'), id="mid-transaction"
        ),
    ],
)
def test_a_task_retries_when_its_connection_dies_and_does_the_work_once(stale_need, retries, when):
    killer = Killer(when)
    with connection.execute_wrapper(killer):
        result = expire_requests.apply()
    assert killer.kills == 1
    assert len(retries) == 1
    assert result.get() == 1
    assert ServiceRequest.objects.get(pk=stale_need.pk).status == ServiceRequest.Status.EXPIRED
    assert OrderEvent.objects.filter(request=stale_need, action="expired").count() == 1


def test_a_task_retries_when_the_need_stays_locked_until_the_lock_is_released(stale_need, retries):
    table = ServiceRequest._meta.db_table
    with second_connection(autocommit=False) as other:
        other.execute(f"SELECT 1 FROM {table} WHERE id = %s FOR UPDATE", [stale_need.pk])
        task_retry.connect(lambda **kwargs: other.rollback(), weak=False, dispatch_uid="unlock")
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '100ms'")
        try:
            result = expire_requests.apply()
        finally:
            task_retry.disconnect(dispatch_uid="unlock")
            with connection.cursor() as cursor:
                cursor.execute("RESET lock_timeout")
    assert [type(exc).__name__ for exc in retries] == ["ServiceBusy"]
    assert result.get() == 1
    assert OrderEvent.objects.filter(request=stale_need, action="expired").count() == 1


def test_a_task_gives_up_after_its_last_retry(stale_need, retries):
    killer = Killer(lambda n, sql: 'FROM "orders_servicerequest"' in sql, limit=None)
    with connection.execute_wrapper(killer):
        result = expire_requests.apply()
    assert result.failed() and isinstance(result.result, OperationalError)
    assert len(retries) == DatabaseTask.max_retries
    assert killer.kills == DatabaseTask.max_retries + 1
    assert ServiceRequest.objects.get(pk=stale_need.pk).status == stale_need.status


def test_every_task_of_ours_retries_when_the_database_goes_away():
    app.loader.import_default_modules()
    ours = [task for name, task in app.tasks.items() if not name.startswith("celery.")]
    assert {"orders.tasks.expire_requests", "ledger.tasks.audit_ledger"} <= {t.name for t in ours}
    for task in ours:
        assert isinstance(task, DatabaseTask), task.name
        assert task.retry_backoff and task.retry_jitter and task.max_retries, task.name
