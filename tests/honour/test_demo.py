"""The honour demo of `make run`: levels 0 to 3, certificates (one revoked), last year's star
volunteers, and under beijing-2022 one care-home application; a second run adds nothing."""

import io

import pytest
from django.core.management import call_command

from accounts.models import User
from honour.models import AdmissionApplication, Certificate, HonourStatus, LevelRight, Nomination
from ledger.audit import run_audit

pytestmark = pytest.mark.django_db


def seeded() -> tuple:
    call_command("seed_demo", stdout=io.StringIO())
    return (Certificate.objects.count(), Nomination.objects.count(), LevelRight.objects.count())


def test_the_demo_shows_every_part_once():
    first = seeded()
    assert seeded() == first
    levels = dict(
        HonourStatus.objects.filter(
            user__username__in=["volunteer09", "volunteer06", "volunteer11", "volunteer12"]
        ).values_list("user__username", "level")
    )
    assert levels == {"volunteer09": 0, "volunteer06": 1, "volunteer11": 2, "volunteer12": 3}
    assert Certificate.objects.filter(revoked_at__isnull=False).count() == 1
    assert Certificate.objects.filter(revoked_at__isnull=True).count() >= 3
    awarded = Nomination.objects.filter(status="awarded", round__status="decided")
    assert {n.member.username for n in awarded} == {"volunteer11", "volunteer12"}
    assert Certificate.objects.filter(kind="award").count() == 2
    assert LevelRight.objects.count() == 5
    assert not AdmissionApplication.objects.exists()  # changning-2019 offers no places
    assert run_audit(actor=None).ok


def test_under_beijing_an_elder_with_10000_coins_has_applied(policy_name):
    policy_name("beijing-2022")
    seeded()
    application = AdmissionApplication.objects.get()
    assert application.member == User.objects.get(username="elder02")
    assert application.balance_minutes >= 10_000 * 60
    assert run_audit(actor=None).ok
