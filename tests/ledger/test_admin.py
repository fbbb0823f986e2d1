import uuid

import pytest
from django.urls import reverse

from ledger import grants, selectors, services
from ledger.models import Account, AuditRun, Transfer
from ledger.services import LedgerError
from tests.factories import MemberFactory


def id_number_of(user) -> str:
    from accounts.idnumbers import decrypt

    return decrypt(user.member.id_number_encrypted)


@pytest.fixture
def elder_b(street_b):
    return MemberFactory(elder=True, street=street_b, user__full_name="赵阿公").user


@pytest.fixture
def funded(district, elder, elder_b, head_office):
    for user, minutes in ((elder, 600), (elder_b, 300)):
        services.grant(
            transfer_id=uuid.uuid4(),
            district=district,
            to=selectors.member_account(user),
            amount=minutes,
            actor=head_office,
            reason="初始发放",
        )


@pytest.mark.django_db
def test_it_shows_street_staff_only_their_streets_accounts(
    client, funded, staff_a, elder, elder_b, django_assert_max_num_queries
):
    client.force_login(staff_a)
    url = reverse("admin:ledger_account_changelist")
    with django_assert_max_num_queries(12):
        html = client.get(url).content.decode()
    assert "张阿婆" in html and "赵阿公" not in html
    other = selectors.member_account(elder_b)
    assert client.get(reverse("admin:ledger_account_change", args=[other.pk])).status_code in (
        302,
        404,
    )
    assert "赵阿公" not in client.get(reverse("admin:ledger_transfer_changelist")).content.decode()


@pytest.mark.django_db
def test_it_keeps_accounts_and_transfers_read_only(client, funded, head_office):
    client.force_login(head_office)
    account = Account.objects.filter(kind="member").first()
    page = client.get(reverse("admin:ledger_account_change", args=[account.pk]))
    assert page.status_code == 200 and 'name="posted_credits"' not in page.content.decode()
    t = Transfer.objects.first()
    assert client.get(reverse("admin:ledger_transfer_change", args=[t.pk])).status_code == 200
    response = client.post(
        reverse("admin:ledger_account_change", args=[account.pk]), {"posted_credits": 999999}
    )
    assert response.status_code == 403
    assert client.get(reverse("admin:ledger_transfer_add")).status_code == 403
    assert Account.objects.get(pk=account.pk).posted_credits == account.posted_credits


@pytest.mark.django_db
def test_it_lets_head_office_grant_to_an_elder_with_a_reason(client, district, elder, head_office):
    client.force_login(head_office)
    url = reverse("admin:ledger_account_grant")
    form = {
        "transfer_id": str(uuid.uuid4()),
        "district": district.pk,
        "id_number": id_number_of(elder),
        "hours": "12.5",
        "reason": "",
    }
    assert "reason" in client.post(url, form).context["form"].errors
    form["reason"] = "高龄独居补贴"
    response = client.post(url, form)
    assert response.status_code == 302
    again = client.post(url, form)  # a double submit is the same transfer
    assert again.status_code == 302
    account = selectors.member_account(elder)
    assert account.balance == 750
    t = Transfer.objects.get(code="grant")
    assert t.actor == head_office and t.memo == "高龄独居补贴"


@pytest.mark.django_db
def test_it_refuses_the_grant_form_to_street_staff(client, district, elder, staff_a):
    client.force_login(staff_a)
    response = client.post(
        reverse("admin:ledger_account_grant"),
        {
            "transfer_id": str(uuid.uuid4()),
            "district": district.pk,
            "id_number": id_number_of(elder),
            "hours": "1",
            "reason": "x",
        },
    )
    assert response.status_code == 302
    assert not Transfer.objects.exists()
    with pytest.raises(LedgerError):
        services.grant(
            transfer_id=uuid.uuid4(),
            district=district,
            to=selectors.member_account(elder),
            amount=60,
            actor=staff_a,
            reason="x",
        )


@pytest.mark.django_db
def test_it_grants_a_csv_all_or_none(client, district, elder, elder_b, volunteer, head_office):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(head_office)
    url = reverse("admin:ledger_account_bulk_grant")
    bad = f"身份证号,小时\n{id_number_of(elder)},10\n{id_number_of(volunteer)},5\n110101,2\n"
    response = client.post(
        url,
        {
            "batch_id": str(uuid.uuid4()),
            "district": district.pk,
            "reason": "春节慰问",
            "file": SimpleUploadedFile("g.csv", bad.encode("gbk")),
        },
    )
    errors = " ".join(response.context["form"].non_field_errors())
    assert "第 3 行" in errors and "第 4 行" in errors and "第 2 行" not in errors
    assert not Transfer.objects.exists()
    good = f"{id_number_of(elder)},10\n{id_number_of(elder_b)},2.5\n"
    response = client.post(
        url,
        {
            "batch_id": str(uuid.uuid4()),
            "district": district.pk,
            "reason": "春节慰问",
            "file": SimpleUploadedFile("g.csv", good.encode()),
        },
    )
    assert response.status_code == 302
    assert selectors.member_account(elder).balance == 600
    assert selectors.member_account(elder_b).balance == 150


@pytest.mark.django_db
def test_it_refuses_a_csv_row_over_the_balance_cap(district, elder, head_office):
    cap_hours = selectors.member_account(elder).max_balance // 60
    rows = grants.parse_csv(f"{id_number_of(elder)},{cap_hours + 1}\n".encode())
    with pytest.raises(LedgerError) as err:
        grants.bulk_grant(
            batch_id=uuid.uuid4(), district=district, rows=rows, actor=head_office, reason="x"
        )
    assert "余额上限" in err.value.message


@pytest.mark.django_db
def test_it_reverses_selected_transfers_after_asking_a_reason(client, funded, head_office, staff_a):
    t = Transfer.objects.order_by("created_at").first()
    url = reverse("admin:ledger_transfer_changelist")
    client.force_login(staff_a)
    page = client.get(url).content.decode()
    assert "reverse_selected" not in page
    client.force_login(head_office)
    ask = client.post(url, {"action": "reverse_selected", "_selected_action": [t.pk]})
    assert ask.status_code == 200 and "reason" in ask.content.decode()
    assert not Transfer.objects.filter(code="reversal").exists()
    client.post(
        url,
        {
            "action": "reverse_selected",
            "_selected_action": [t.pk],
            "apply": "1",
            "reason": "重复发放",
        },
    )
    rev = Transfer.objects.get(code="reversal")
    assert rev.reverses_id == t.pk and rev.memo == "重复发放"


@pytest.mark.django_db
def test_it_shows_a_failed_audit_on_the_staff_home_until_acknowledged(
    client, funded, head_office, staff_a
):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE ledger_account SET posted_credits = posted_credits + 1 WHERE kind = 'member'"
        )
    client.force_login(head_office)
    client.post(reverse("admin:ledger_auditrun_run"))
    run = AuditRun.objects.get()
    assert not run.ok and run.triggered_by == head_office
    assert 'data-testid="failed-audits"' in client.get(reverse("admin:index")).content.decode()
    client.force_login(staff_a)
    assert "failed-audits" not in client.get(reverse("admin:index")).content.decode()
    client.force_login(head_office)
    detail = client.get(reverse("admin:ledger_auditrun_change", args=[run.pk])).content.decode()
    assert "cached_total" in detail
    client.post(
        reverse("admin:ledger_auditrun_changelist"),
        {"action": "acknowledge", "_selected_action": [run.pk]},
    )
    assert "failed-audits" not in client.get(reverse("admin:index")).content.decode()


@pytest.mark.django_db
def test_it_lists_transfers_and_audits_in_a_fixed_number_of_queries(
    client, funded, district, elder, head_office, django_assert_max_num_queries
):
    account = selectors.member_account(elder)
    for _ in range(30):
        services.grant(
            transfer_id=uuid.uuid4(),
            district=district,
            to=account,
            amount=1,
            actor=head_office,
            reason="x",
        )
    for _ in range(5):
        AuditRun.objects.create(ok=True, triggered_by=head_office)
    client.force_login(head_office)
    with django_assert_max_num_queries(14):
        # session, user, roles (x2), count (x2), page with both accounts' owners joined…
        response = client.get(reverse("admin:ledger_transfer_changelist"))
    assert response.status_code == 200 and response.content.decode().count("张阿婆") >= 25
    with django_assert_max_num_queries(12):
        assert client.get(reverse("admin:ledger_auditrun_changelist")).status_code == 200


@pytest.fixture
def elder_elsewhere(city):
    from tests.factories import BranchFactory

    xuhui = BranchFactory(name="徐汇区", code="xuhui", kind="district", parent=city)
    street = BranchFactory(name="天平", code="tianping", kind="street", parent=xuhui)
    return MemberFactory(elder=True, street=street, user__full_name="钱阿婆").user


@pytest.mark.django_db
def test_it_refuses_to_grant_to_an_elder_of_another_district(
    district, elder_elsewhere, head_office
):
    with pytest.raises(LedgerError) as refused:
        services.grant(
            transfer_id=uuid.uuid4(),
            district=district,
            to=selectors.member_account(elder_elsewhere),
            amount=60,
            actor=head_office,
            reason="慰问",
        )
    assert refused.value.code == "other_district"
    assert "钱阿婆" in refused.value.message
    assert not Transfer.objects.exists()


@pytest.mark.django_db
def test_it_refuses_a_csv_naming_an_elder_of_another_district(
    district, elder, elder_elsewhere, head_office
):
    rows = grants.parse_csv(
        f"{id_number_of(elder)},1\n{id_number_of(elder_elsewhere)},1\n".encode()
    )
    with pytest.raises(LedgerError) as refused:
        grants.bulk_grant(
            batch_id=uuid.uuid4(), district=district, rows=rows, actor=head_office, reason="慰问"
        )
    assert "钱阿婆" in refused.value.message and "2" in refused.value.message
    assert not Transfer.objects.exists()
