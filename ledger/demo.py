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
