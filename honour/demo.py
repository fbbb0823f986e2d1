"""Demo honour: the rights of each level; volunteers at levels 0 to 3 (09: none, 06: one
star, 11: two, 12: three); certificates, one of them revoked; last year's star volunteers;
and, where the policy offers care-home places for coins (beijing-2022), one application.

Idempotent: service history has ids derived from business keys, and every other step looks
for what an earlier run made before it makes anything.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal

from accounts.models import Member, User
from branches.models import Branch
from honour import admission, awards, certificates, levels
from honour.models import AwardRound, Certificate, LevelRight
from ledger import donations, selectors, services
from ledger.spending import today
from timebank.policy import MINUTES_PER_HOUR, get_policy

RIGHTS = {
    1: "一星志愿者：获颁一星证书；可参加区里组织的志愿者培训。",
    2: "二星志愿者：获颁二星证书；优先参加志愿服务项目。",
    3: "三星志愿者：获颁三星证书；可兑换“三星及以上”专享服务（如中医推拿理疗券）；"
    "可优先抢“前一小时限三星”的需求。",
    4: "四星志愿者：获颁四星证书；可推荐为街道“星级志愿者”候选人。",
    5: "五星志愿者：获颁五星证书；可推荐为区“星级志愿者”候选人，享受区里表彰。",
}
# username -> (days of 2 hours served, every how many days, hours donated after 600 served)
SERVED = {"volunteer11": (155, 3, 0), "volunteer12": (310, 2, 100)}
STREET_STAFF = {"tianshan": "staff01", "hongqiao": "staff02", "beixinjing": "staff03"}


def seed(*, stdout) -> None:
    district = Branch.objects.filter(code="changning", kind=Branch.Kind.DISTRICT).first()
    head = User.objects.filter(username="staff21").first()
    if district is None or head is None:
        stdout.write("honour demo: no district or head office yet, skipped")
        return
    for level, text in RIGHTS.items():
        LevelRight.objects.get_or_create(level=level, defaults={"text": text})
    users = {u.username: u for u in User.objects.filter(username__in=[*SERVED, "volunteer06"])}
    if len(users) != len(SERVED) + 1:
        return
    for username, plan in SERVED.items():
        _serve(district, head, users[username], *plan)
    levels.recompute_all()
    _certificates(users, head)
    _star_volunteers(district, head, users)
    _admission(district, head)
    stdout.write("honour demo: levels, certificates and last year's star volunteers in place")


def _serve(district, head, user, days, every, donate_hours) -> None:
    """Oldest first, in one ledger call per stretch; with ``donate_hours``, a donation after
    600 hours served makes room under the balance cap for the rest."""
    account = selectors.member_account(user)
    pool = selectors.grant_pool(district)

    def served(newest: int, oldest: int) -> None:
        services.execute(
            [
                services.TransferOp(
                    transfer_id=services.transfer_id_for(f"demo:honour:served:{user.username}:{n}"),
                    debit=pool,
                    credit=account,
                    amount=2 * MINUTES_PER_HOUR,
                    code="service",
                    service_date=today() - timedelta(days=every * n),
                    memo="试点期间服务记录导入（演示数据）",
                )
                for n in range(oldest, newest - 1, -1)
            ],
            actor=head,
        )

    if not donate_hours:
        served(1, days)
        return
    cap_day = days - 300 + 1  # the 300th day of 2 hours: 600 hours served
    served(cap_day, days)
    donations.donate(
        donation_id=uuid.uuid5(services.NAMESPACE, f"demo:honour:{user.username}"),
        donor=user,
        target="pool",
        amount=donate_hours * MINUTES_PER_HOUR,
        actor=user,
    )
    served(1, cap_day - 1)


def _certificates(users, head) -> None:
    if Certificate.objects.filter(member__in=users.values()).exists():
        return
    certificates.issue_level_certificate(member=users["volunteer06"], actor=users["volunteer06"])
    certificates.issue_level_certificate(member=users["volunteer12"], actor=users["volunteer12"])
    last_year = today().year - 1
    start, end = date(last_year, 1, 1), date(last_year, 12, 31)
    wrong = certificates.issue_hours_certificate(
        member=users["volunteer11"], start=start, end=end, actor=users["volunteer11"]
    )
    certificates.revoke(certificate=wrong, actor=head, reason="开具时间段有误，已重新开具")
    certificates.issue_hours_certificate(
        member=users["volunteer11"], start=start, end=date.today(), actor=users["volunteer11"]
    )


def _star_volunteers(district, head, users) -> None:
    year = today().year - 1
    if AwardRound.objects.filter(district=district, year=year).exists():
        return
    award_round = awards.open_round(
        district=district,
        year=year,
        kind=AwardRound.Kind.STAR_VOLUNTEER,
        min_hours=50,
        min_rating=Decimal(0),
        actor=head,
    )
    for username in SERVED:
        member = Member.objects.select_related("street").get(user=users[username])
        staff = User.objects.get(username=STREET_STAFF[member.street.code])
        nomination = awards.nominate(
            award_round=award_round,
            actor=staff,
            reason="全年坚持为社区老人提供陪伴服务",
            member=users[username],
        )
        awards.decide_nomination(
            nomination=nomination, award=True, actor=head, reason="服务时长和评价均居前列"
        )
    awards.close_round(award_round=award_round, actor=head, reason="评选结束")
    # Volunteer 12 agreed to show their full name on the roll; volunteer 11 stays masked.
    awards.set_roll_consent(user=users["volunteer12"], show_name=True)


def _admission(district, head) -> None:
    limit = get_policy().admission_threshold_minutes
    elder = User.objects.filter(username="elder02").first()
    if limit is None or elder is None or admission.applications_of(elder).exists():
        return
    services.grant(
        transfer_id=services.transfer_id_for("demo:honour:admission:elder02"),
        district=district,
        to=selectors.member_account(elder),
        amount=limit,
        actor=head,
        reason="申请养老机构床位（演示数据）",
    )
    admission.apply_for_admission(
        application_id=uuid.uuid5(services.NAMESPACE, "demo:honour:admission:elder02"),
        member=elder,
        reason="独居，行动不便，需要入住养老机构",
        preferred_homes="天山照护之家",
        actor=elder,
    )
