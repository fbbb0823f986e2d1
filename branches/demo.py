"""Demo organisation: 上海市 > 长宁区 head office > streets 天山, 虹桥, 北新泾, two bases each."""

from django.utils import timezone

from branches.models import Branch, ServiceBase

STREETS = [("tianshan", "天山"), ("hongqiao", "虹桥"), ("beixinjing", "北新泾")]
BASES = {
    "tianshan": [
        ("天山社区长者照护之家", ServiceBase.Kind.CARE_HOME, "天山路 780 号", 121.4005, 31.2135),
        ("天山日间照料中心", ServiceBase.Kind.DAY_CARE, "娄山关路 220 号", 121.4082, 31.2148),
    ],
    "hongqiao": [
        (
            "虹桥社区综合为老服务中心",
            ServiceBase.Kind.COMMUNITY_CENTRE,
            "虹桥路 1720 号",
            121.4040,
            31.1990,
        ),
        ("虹桥养老院", ServiceBase.Kind.CARE_HOME, "古北路 555 号", 121.4010, 31.2050),
    ],
    "beixinjing": [
        ("北新泾敬老院", ServiceBase.Kind.CARE_HOME, "北新泾路 300 号", 121.3730, 31.2200),
        ("北新泾日间照料中心", ServiceBase.Kind.DAY_CARE, "平塘路 88 号", 121.3770, 31.2230),
    ],
}


def seed(*, stdout) -> None:
    city, _ = Branch.objects.get_or_create(
        code="shanghai", defaults={"name": "上海市", "kind": Branch.Kind.CITY}
    )
    district, _ = Branch.objects.get_or_create(
        code="changning",
        defaults={"name": "长宁区", "kind": Branch.Kind.DISTRICT, "parent": city},
    )
    created = 0
    for number, (code, name) in enumerate(STREETS):
        street, _ = Branch.objects.get_or_create(
            code=code, defaults={"name": name, "kind": Branch.Kind.STREET, "parent": district}
        )
        for index, (base_name, kind, address, lng, lat) in enumerate(BASES[code]):
            _, made = ServiceBase.objects.get_or_create(
                name=base_name,
                street=street,
                defaults={
                    "kind": kind,
                    "address": f"上海市长宁区{address}",
                    "licence_number": f"沪长民养{2019 + index}-{number + 1:03d}",
                    "contact_name": f"{name}联系人",
                    "contact_phone": f"+86139000005{number}{index}",
                    "status": ServiceBase.Status.CERTIFIED,
                    "certified_at": timezone.now(),
                    "latitude": lat,
                    "longitude": lng,
                },
            )
            created += made
    stdout.write(f"branches: 长宁区, {len(STREETS)} streets, {created} new service bases")
