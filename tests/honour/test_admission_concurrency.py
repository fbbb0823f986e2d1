"""Two tabs of the same member apply at once: one application, one clear refusal."""

from __future__ import annotations

import uuid

import pytest

from honour import admission
from honour.admission import AdmissionError
from honour.models import AdmissionApplication
from tests.honour.test_admission import TEN_THOUSAND, fund
from tests.ledger.test_concurrency import run_threads

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def beijing(policy_name):
    policy_name("beijing-2022")


def test_two_tabs_applying_at_once_make_one_application(elder, advisor_a):
    fund(elder, TEN_THOUSAND)

    def apply(i):
        return admission.apply_for_admission(
            application_id=uuid.uuid4(),
            member=elder,
            reason=f"第{i}个页面",
            preferred_homes="",
            actor=(elder, advisor_a)[i % 2],
        )

    outcomes = run_threads(4, apply)
    made = [o for o in outcomes if isinstance(o, AdmissionApplication)]
    refused = [o for o in outcomes if isinstance(o, AdmissionError)]
    assert len(made) == 1 and len(refused) == 3, outcomes
    assert {e.code for e in refused} == {"already_open"}
    assert AdmissionApplication.objects.count() == 1
