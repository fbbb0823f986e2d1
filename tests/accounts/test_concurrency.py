import threading

import pytest
from django.db import connection

from accounts import idnumbers, services
from accounts.models import Member
from tests.factories import BranchFactory, UserFactory, years_ago


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_people_registering_one_id_number_at_once_get_one_member():
    street = BranchFactory(kind="street")
    users = [UserFactory(), UserFactory()]
    number = idnumbers.make_id_number(birth_date=years_ago(65), sex="M", serial=77)
    barrier = threading.Barrier(2)
    outcomes = []

    def register(user):
        try:
            barrier.wait()
            services.register_member(
                user=user, role="volunteer", street=street, full_name="同号", id_number=number
            )
            outcomes.append("ok")
        except services.AccountsError as exc:
            outcomes.append(exc.field)
        finally:
            connection.close()

    threads = [threading.Thread(target=register, args=(u,)) for u in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["id_number", "ok"]
    assert Member.objects.count() == 1
