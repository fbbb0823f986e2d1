"""Demo exchange catalogue: two pickup points with their clerks, eight items, and orders of
volunteer 06 (who may spend): one waiting for pickup at 天山, one already collected.

Idempotent: points, items and stock are found by name, orders by an id derived from a
business key, so a second run changes nothing.
"""

from __future__ import annotations

import io
import uuid

from django.core.files.base import ContentFile
from PIL import Image, ImageDraw

from accounts.demo import _user
from branches.models import Branch
from exchange import services
from exchange.models import ExchangeOrder, Item, PickupPoint, Stock
from ledger.services import NAMESPACE

# (clerk phone suffix, street code, name, address, opening hours, phone)
POINTS = [
    (
        "51",
        "tianshan",
        "天山慈善超市",
        "天山路 345 号（近娄山关路）",
        "周一至周六 9:00–17:00",
        "+862162590001",
    ),
    (
        "52",
        "hongqiao",
        "虹桥社区综合服务中心",
        "虹桥路 1452 号 1 楼服务台",
        "每天 8:30–16:30",
        "+862162590002",
    ),
]
# (name, kind, price, donor kind, donor, monthly limit, min level, stock 天山, stock 虹桥, colour)
ITEMS = [
    ("大米 5 斤", "goods", 5, "firm", "良友粮油", 2, 0, 30, 20, (236, 224, 200)),
    ("食用油 5 升", "goods", 8, "alliance", "敬老卡联盟·福临门", 1, 0, 12, 10, (250, 226, 150)),
    ("纯牛奶一箱", "goods", 6, "government", "长宁区民政局采购", 2, 0, 15, 15, (225, 238, 250)),
    ("保温杯", "goods", 3, "person", "爱心居民 陈女士", None, 0, 10, 0, (200, 230, 215)),
    ("老年智能手机", "goods", 60, "firm", "某通信公司捐赠", 1, 0, 1, 0, (210, 210, 225)),
    ("社区理发券", "voucher", 2, "alliance", "敬老卡联盟·美发店", 2, 0, 40, 40, (245, 210, 210)),
    ("上门助浴券", "voucher", 4, "government", "区民政局采购", 1, 0, 10, 10, (205, 225, 245)),
    ("中医推拿理疗券", "voucher", 10, "firm", "长宁中医门诊部", 1, 3, 5, 5, (230, 215, 240)),
]
VOLUNTEER = "volunteer06"  # has served 120 hours (ledger demo): may spend


def seed(*, stdout) -> None:
    district = Branch.objects.filter(code="changning", kind=Branch.Kind.DISTRICT).first()
    if district is None:
        stdout.write("exchange demo: no district yet, skipped")
        return
    points = [_point(district, *row) for row in POINTS]
    items = {row[0]: _item(row, points) for row in ITEMS}
    _orders(items, points)
    stdout.write(f"exchange demo: {len(points)} pickup points, {len(items)} items in place")


def _point(district, suffix, street_code, name, address, hours, phone) -> PickupPoint | None:
    street = Branch.objects.filter(code=street_code, parent=district).first()
    if street is None:
        return None
    point, _ = PickupPoint.objects.get_or_create(
        name=name,
        defaults={"street": street, "address": address, "opening_hours": hours, "phone": phone},
    )
    clerk = _user(f"point{suffix}", phone=f"+86139000000{suffix}", full_name=f"{name}·店员")
    point.staff.add(clerk)
    return point


def _item(row, points) -> Item:
    name, kind, price, donor_kind, donor, limit, level, *stock, colour = row
    item, created = Item.objects.get_or_create(
        name=name,
        defaults={
            "kind": kind,
            "price": price,
            "donor_kind": donor_kind,
            "donor_name": donor,
            "monthly_limit": limit,
            "min_level": level,
            "description": f"{donor}提供。凭兑换码到兑换点领取。",
        },
    )
    if created:
        item.photo.save("demo.jpg", ContentFile(_tile(colour)), save=True)
    for point, quantity in zip(points, stock, strict=True):
        if point is not None and quantity:
            Stock.objects.get_or_create(item=item, point=point, defaults={"quantity": quantity})
    return item


def _tile(colour) -> bytes:
    """A plain square in the item's colour with a rounded label: a stand-in product photo."""
    image = Image.new("RGB", (480, 480), colour)
    draw = ImageDraw.Draw(image)
    shade = tuple(max(0, c - 60) for c in colour)
    draw.rounded_rectangle((120, 120, 360, 360), radius=40, outline=shade, width=12)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def _orders(items, points) -> None:
    from accounts.models import User
    from ledger.spending import spending_eligibility

    volunteer = User.objects.filter(username=VOLUNTEER).first()
    tianshan = points[0]
    if volunteer is None or tianshan is None:
        return
    if not spending_eligibility(getattr(volunteer, "member", None)).may_spend:
        return  # another scheme (beijing-2022: from age 60): no orders in the demo
    clerk = tianshan.staff.first()
    cup = _order(volunteer, items["保温杯"], tianshan, key="cup")
    if cup.is_open:
        services.collect_order(point=tianshan, code=cup.code, actor=clerk)
    _order(volunteer, items["大米 5 斤"], tianshan, key="rice")


def _order(member, item, point, *, key) -> ExchangeOrder:
    order_id = uuid.uuid5(NAMESPACE, f"demo:exchange:{member.username}:{key}")
    return services.place_order(
        order_id=order_id, member=member, item=item, point=point, actor=member
    )
