import io

import pytest
from django.core.management import call_command

from ledger import selectors
from ledger.audit import run_audit
from ledger.models import Transfer


@pytest.mark.django_db
def test_it_seeds_demo_grants_once_and_the_audit_passes():
    from accounts.models import User

    call_command("seed_demo", stdout=io.StringIO())
    count = Transfer.objects.count()
    elder = User.objects.get(username="elder01")
    balance = selectors.member_account(elder).balance
    assert balance > 0
    call_command("seed_demo", stdout=io.StringIO())
    assert Transfer.objects.count() == count
    assert selectors.member_account(elder).balance == balance
    assert run_audit(actor=None).ok


@pytest.mark.django_db
def test_it_skips_quietly_when_nobody_is_there():
    from ledger.demo import seed

    out = io.StringIO()
    seed(stdout=out)
    assert "skipped" in out.getvalue() and not Transfer.objects.exists()
