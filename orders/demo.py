"""Demo needs in every state, made through the services (runs after branches, accounts, ledger).

Idempotent: each scenario is keyed by its title and skipped when it already exists.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.utils import timezone

from accounts.models import User
from branches.models import Branch, ServiceBase
from ledger import selectors as ledger_selectors
from ledger import services as ledger
from orders import services
from orders.models import ServiceCategory, ServiceRequest
from timebank.policy import MINUTES_PER_HOUR as HOUR

SIGNATURE = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
    "+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def _grant(district, account, minutes: int, key: str, head) -> None:
    ledger.grant(
        transfer_id=uuid.uuid5(ledger.NAMESPACE, f"demo:orders:grant:{key}"),
        district=district,
        to=account,
        amount=minutes,
        actor=head,
        reason="演示数据:服务订单备用时间币",
    )


class Demo:
    def __init__(self):
        self.now = timezone.now()
        self.head = User.objects.get(username="staff21")
        self.street_staff = {
            code: User.objects.get(username=f"staff0{i}")
            for i, code in enumerate(["tianshan", "hongqiao", "beixinjing"], start=1)
        }
        self.base_staff = {
            code: User.objects.get(username=f"staff4{i}")
            for i, code in enumerate(["tianshan", "hongqiao", "beixinjing"], start=1)
        }
        self.bases = {
            code: ServiceBase.objects.filter(street__code=code).order_by("pk").first()
            for code in self.base_staff
        }
        self.district = Branch.objects.get(code="changning")
        self.made = 0

    def volunteer(self, n: int) -> User:
        return User.objects.get(username=f"volunteer{n:02d}")

    def need(
        self,
        title: str,
        *,
        street="tianshan",
        category="companionship-institution",
        hours=1,
        places=1,
        starts_in=timedelta(days=1),
        stage="published",
        auto_confirm=False,
    ):
        """Post a base need and take it to ``stage``; None if it already exists."""
        if ServiceRequest.objects.filter(title=title).exists():
            return None
        self.made += 1
        req = services.post_request(
            actor=self.base_staff[street],
            category=ServiceCategory.objects.get(code=category),
            title=title,
            base=self.bases[street],
            starts_at=(self.now + starts_in).replace(second=0, microsecond=0),
            duration_minutes=hours * HOUR,
            places=places,
            auto_confirm=auto_confirm,
            description="演示需求:陪老人聊天、读报,注意安全。",
            requirements="有耐心,会讲上海话更好。",
        )
        if stage == "submitted":
            return req
        if stage == "draft":
            services.reject_request(
                service_request=req, actor=self.street_staff[street], reason="请写明具体服务楼层。"
            )
            return req
        services.approve_by_street(service_request=req, actor=self.street_staff[street])
        if stage == "street_approved":
            return req
        services.approve_by_head_office(service_request=req, actor=self.head)
        req.refresh_from_db()
        return req

    def served(self, req, volunteer: User, *, stop: str, rate: bool = False):
        """Grab and take the volunteer's place up to ``stop``."""
        a = services.grab_place(service_request=req, volunteer=volunteer)
        if stop == "grabbed":
            return a
        if a.status == "grabbed":
            a = services.confirm_assignment(assignment=a, actor=req.posted_by)
        if stop == "confirmed":
            return a
        a = services.sign_in(
            assignment=a,
            actor=volunteer,
            code=req.checkin_code,
            latitude=req.latitude,
            longitude=req.longitude,
        )
        if stop == "signed_in":
            return a
        a = services.sign_out(assignment=a, actor=volunteer)
        if stop == "signed_out":
            return a
        return a


def seed(*, stdout) -> None:
    d = Demo()
    for base in d.bases.values():
        _grant(
            d.district, ledger_selectors.base_account(base), 200 * HOUR, f"base:{base.pk}", d.head
        )
    elder = User.objects.get(username="elder01")
    _grant(d.district, ledger_selectors.member_account(elder), 10 * HOUR, "elder01", d.head)

    # Before publication: rejected (back to draft), at the street, at head office.
    d.need("演示·周末读报(已退回)", stage="draft", starts_in=timedelta(days=4))
    d.need("演示·午餐助餐", stage="submitted", category="meal-help")
    d.need("演示·虹桥散步陪伴", street="hongqiao", stage="submitted", hours=2)
    d.need(
        "演示·北新泾手工课",
        street="beixinjing",
        stage="street_approved",
        category="culture-sport",
        starts_in=timedelta(days=2),
    )
    # Published, open for grabbing.
    d.need("演示·下午陪伴聊天", places=3, starts_in=timedelta(days=1, hours=2))
    d.need(
        "演示·防诈骗讲座助理",
        street="hongqiao",
        category="anti-fraud",
        places=2,
        hours=2,
        starts_in=timedelta(days=2, hours=1),
    )
    d.need("演示·接送做康复", street="beixinjing", category="escort", starts_in=timedelta(days=3))
    # With volunteers at each step.
    req = d.need("演示·看护午休", places=2, starts_in=timedelta(days=1, hours=5))
    if req:
        d.served(req, d.volunteer(1), stop="grabbed")
    req = d.need("演示·今天的陪伴(可签到)", starts_in=timedelta(minutes=20), auto_confirm=True)
    if req:
        d.served(req, d.volunteer(2), stop="confirmed")
    req = d.need("演示·读报(服务中)", starts_in=timedelta(minutes=10), auto_confirm=True)
    if req:
        d.served(req, d.volunteer(3), stop="signed_in")
    req = d.need(
        "演示·陪伴下棋(待确认完成)",
        starts_in=timedelta(minutes=15),
        auto_confirm=True,
        street="hongqiao",
    )
    if req:
        d.served(req, d.volunteer(4), stop="signed_out")
    req = d.need(
        "演示·助餐(已完成)", category="meal-help", starts_in=timedelta(minutes=5), auto_confirm=True
    )
    if req:
        a = d.served(req, d.volunteer(5), stop="signed_out")
        services.complete_assignment(assignment=a, actor=req.posted_by, minutes=HOUR)
    req = d.need("演示·节日活动(已取消)", stage="published", starts_in=timedelta(days=5))
    if req:
        d.served(req, d.volunteer(6), stop="grabbed")
        services.cancel_request(service_request=req, actor=req.posted_by, reason="活动改期")
    req = d.need("演示·早间陪伴(已过期)", starts_in=timedelta(hours=1))
    if req:
        ServiceRequest.objects.filter(pk=req.pk).update(starts_at=d.now - timedelta(hours=1))
        services.expire_requests()
    # At home: an advisor posts for 吴 family's elder; the family confirms and rates.
    title = "演示·居家陪伴(家属已评价)"
    if not ServiceRequest.objects.filter(title=title).exists():
        d.made += 1
        street = elder.member.street.code
        advisor = User.objects.get(username=f"staff1{list(d.street_staff).index(street) + 1}")
        home = services.post_request(
            actor=advisor,
            category=ServiceCategory.objects.get(code="companionship-home"),
            title=title,
            recipient=elder,
            address=f"{elder.member.street}街道 某小区 3 号楼",
            starts_at=d.now + timedelta(minutes=5),
            duration_minutes=HOUR,
            auto_confirm=True,
        )
        services.approve_by_street(service_request=home, actor=d.street_staff[street])
        services.approve_by_head_office(service_request=home, actor=d.head)
        home.refresh_from_db()
        a = d.served(home, d.volunteer(7), stop="signed_out")
        family = User.objects.get(username="family01")
        services.complete_assignment(assignment=a, actor=family, minutes=HOUR)
        services.evaluate_assignment(
            assignment=a, actor=family, rating=5, comment="志愿者很耐心,谢谢!", signature=SIGNATURE
        )
    stdout.write(f"orders: {d.made} new demo needs, {ServiceRequest.objects.count()} in all")
