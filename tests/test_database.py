import threading

import pytest
from django.db import DatabaseError, connection, connections, transaction

from accounts.models import User


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_locked_row_is_refused_to_a_second_transaction():
    user = User.objects.create(username="locked")
    outcome = {}

    def second_writer():
        try:
            with transaction.atomic():
                User.objects.select_for_update(nowait=True).get(pk=user.pk)
            outcome["result"] = "got the lock"
        except DatabaseError:
            outcome["result"] = "refused"
        finally:
            connections.close_all()

    with transaction.atomic():
        User.objects.select_for_update().get(pk=user.pk)
        thread = threading.Thread(target=second_writer)
        thread.start()
        thread.join(timeout=30)
    assert outcome["result"] == "refused"


@pytest.mark.django_db
def test_sqlite_runs_in_wal_mode_with_a_busy_timeout():
    if connection.vendor != "sqlite":
        pytest.skip("only the SQLite default has these pragmas")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] >= 5000
        cursor.execute("PRAGMA foreign_keys")
        assert cursor.fetchone()[0] == 1
    assert connection.settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
