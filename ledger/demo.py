"""Demo coins: the initial grant to every verified demo elder, and a float for a few bases.

Idempotent: every transfer id is derived from its business key, so a second run returns the
first transfers and changes nothing. People or bases the earlier demos did not create are
simply skipped.
"""

from accounts.models import Member, User
from branches.models import Branch, ServiceBase
from ledger import selectors, services
from timebank.policy import MINUTES_PER_HOUR, get_policy

BASE_FLOAT_HOURS = 50  # demo data only: a float so that the first bases can post needs


def seed(*, stdout) -> None:
    district = Branch.objects.filter(code="changning", kind=Branch.Kind.DISTRICT).first()
    head = User.objects.filter(username="staff21").first()
    if district is None or head is None:
        stdout.write("ledger demo: no district or head office yet, skipped")
        return
    granted = 0
    initial = get_policy().initial_grant_minutes
    elders = Member.objects.filter(
        role=Member.Role.ELDER, status=Member.Status.VERIFIED, user__username__startswith="elder"
    ).select_related("user")
    for member in elders if initial else []:
        services.grant(
            transfer_id=services.transfer_id_for(f"demo:ledger:initial:{member.user.username}"),
            district=district,
            to=selectors.member_account(member.user),
            amount=initial,
            actor=head,
            reason="初始发放（演示数据）",
        )
        granted += 1
    bases = ServiceBase.objects.filter(
        status=ServiceBase.Status.CERTIFIED, street__parent=district
    ).order_by("pk")[:3]
    for base in bases:
        services.grant(
            transfer_id=services.transfer_id_for(f"demo:ledger:base:{base.pk}"),
            district=district,
            to=selectors.base_account(base),
            amount=BASE_FLOAT_HOURS * MINUTES_PER_HOUR,
            actor=head,
            reason="服务基地备用时间币（演示数据）",
        )
        granted += 1
    stdout.write(f"ledger demo: {granted} grants in place")
    _seed_spending(district=district, head=head, stdout=stdout)


SERVED_DEMO = {"volunteer06": 60, "volunteer09": 20}  # days of 2 hours served before the demo


def _seed_spending(*, district, head, stdout) -> None:
    """Volunteer 06 has served 120 hours (may spend), volunteer 09 40 (not yet); volunteer 06
    gives 5 hours to their parent (waiting for 天山) and donates 10 to the care pool."""
    import uuid
    from datetime import timedelta

    from accounts.models import Relative
    from ledger import donations, gifts, spending

    users = {u.username: u for u in User.objects.filter(username__in=SERVED_DEMO)}
    if len(users) != len(SERVED_DEMO):
        return
    today = spending.today()
    pool = selectors.grant_pool(district)
    for username, days in SERVED_DEMO.items():
        account = selectors.member_account(users[username])
        # One ledger call per volunteer (all or nothing, the same checks as one by one).
        services.execute(
            [
                services.TransferOp(
                    transfer_id=services.transfer_id_for(f"demo:ledger:served:{username}:{n}"),
                    debit=pool,
                    credit=account,
                    amount=2 * MINUTES_PER_HOUR,
                    code="service",
                    service_date=today - timedelta(days=7 * n),
                    memo="试点期间服务记录导入（演示数据）",
                )
                for n in range(1, days + 1)
            ],
            actor=head,
        )
    giver = users["volunteer06"]
    parent = Relative.objects.filter(member__user=giver, status="confirmed").first()
    if parent is not None:
        gifts.give_coins(
            gift_id=uuid.uuid5(services.NAMESPACE, "demo:gift:volunteer06:parent"),
            giver=giver,
            relative=parent,
            amount=5 * MINUTES_PER_HOUR,
            actor=giver,
        )
    if "pool" in get_policy().donation_targets:
        donations.donate(
            donation_id=uuid.uuid5(services.NAMESPACE, "demo:donation:volunteer06:pool"),
            donor=giver,
            target="pool",
            amount=10 * MINUTES_PER_HOUR,
            actor=giver,
        )
    stdout.write("ledger demo: service history, a gift and a donation in place")
