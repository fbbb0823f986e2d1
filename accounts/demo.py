"""Demo people: staff for each role, 30 volunteers, 30 elders, a family member.

Logins are in the README; every account's password is ``DEMO_PASSWORD``.
"""

from datetime import date, timedelta

from django.contrib.auth.hashers import make_password
from django.utils import timezone

from accounts import idnumbers
from accounts.models import Insurance, Member, Relative, Training, User
from branches.models import Branch, ServiceBase, StaffRole
from branches.services import assign_staff_role
from timebank.management.commands.seed_demo import demo_password_hash

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹"
GIVEN_M = ["建国", "志强", "国华", "德明", "永康", "家林", "宝根", "振华", "文斌", "海涛"]
GIVEN_F = ["秀英", "桂兰", "玉珍", "美华", "凤英", "丽娟", "惠芳", "淑珍", "雪梅", "春燕"]
# Elders get their own given names, so that no elder shares a name with a volunteer or staff.
ELDER_M = ["福生", "金宝", "阿根", "长林", "荣发", "根宝", "得胜", "锦华", "炳坤", "顺昌"]
ELDER_F = ["阿珍", "杏娣", "彩娣", "金凤", "月娥", "巧珍", "翠英", "宝娣", "素珍", "菊芬"]
STREET_CODES = ["tianshan", "hongqiao", "beixinjing"]
# (phone suffix, role, branch code, name): street staff 1-3, advisors 11-13, head office 21,
# official 31, base staff 41-43 (first base of each street).
STAFF = [
    ("01", "street_staff", "tianshan", "天山分行·周敏"),
    ("02", "street_staff", "hongqiao", "虹桥分行·吴磊"),
    ("03", "street_staff", "beixinjing", "北新泾分行·郑洁"),
    ("11", "advisor", "tianshan", "天山养老顾问·孙丽"),
    ("12", "advisor", "hongqiao", "虹桥养老顾问·钱勇"),
    ("13", "advisor", "beixinjing", "北新泾养老顾问·冯芳"),
    ("21", "head_office", "changning", "长宁总行·陈刚"),
    ("31", "official", "changning", "长宁区民政局·林红"),
    ("41", "base_staff", "tianshan", "天山照护之家·何静"),
    ("42", "base_staff", "hongqiao", "虹桥为老服务中心·高军"),
    ("43", "base_staff", "beixinjing", "北新泾敬老院·罗平"),
]


def _user(username: str, *, phone: str | None, full_name: str) -> User:
    user, _ = User.objects.get_or_create(
        username=username,
        defaults={
            "phone": phone,
            "phone_verified": bool(phone),
            "full_name": full_name,
            # Hashed once for all demo accounts: each hash takes a quarter of a second.
            "password": demo_password_hash() if phone else make_password(None),
        },
    )
    return user


def _member(user, *, role, street, birth, sex, serial, status, **extra) -> Member:
    number = idnumbers.make_id_number(birth_date=birth, sex=sex, serial=serial)
    member, _ = Member.objects.get_or_create(
        user=user,
        defaults={
            "role": role,
            "capacity": Member.ROLE_CAPACITY[role],
            "street": street,
            "status": status,
            "id_number_encrypted": idnumbers.encrypt(number),
            "id_number_hash": idnumbers.keyed_hash(number),
            "id_number_masked": idnumbers.mask(number),
            "birth_date": birth,
            "sex": sex,
            "reviewed_at": timezone.now() if status == Member.Status.VERIFIED else None,
            **extra,
        },
    )
    return member


def _name(i: int, sex: str, *, elder: bool = False) -> str:
    men, women = (ELDER_M, ELDER_F) if elder else (GIVEN_M, GIVEN_F)
    given = men if sex == "M" else women
    return SURNAMES[i % len(SURNAMES)] + given[(i * 7) % len(given)]


def seed(*, stdout) -> None:
    streets = {b.code: b for b in Branch.objects.filter(code__in=[*STREET_CODES, "changning"])}
    first_base = {
        code: ServiceBase.objects.filter(street=streets[code]).order_by("pk").first()
        for code in STREET_CODES
    }
    for suffix, role, code, name in STAFF:
        user = _user(f"staff{suffix}", phone=f"+86139000000{suffix}", full_name=name)
        if not StaffRole.objects.filter(user=user, role=role).exists():
            base = first_base[code] if role == "base_staff" else None
            assign_staff_role(user=user, role=role, branch=streets[code], base=base)

    today = timezone.localdate()
    advisors = {
        code: User.objects.get(username=f"staff1{i + 1}") for i, code in enumerate(STREET_CODES)
    }
    for i in range(1, 31):
        sex = "F" if i % 3 == 0 else "M"
        # Men 61-69; some women in their fifties (the CN sex exception).
        birth = (
            date(1957 + i % 9, 1 + i % 12, 1 + i % 28)
            if sex == "M"
            else date(1968 + i % 5, 1 + i % 12, 1 + i % 28)
        )
        user = _user(f"volunteer{i:02d}", phone=f"+86137000000{i:02d}", full_name=_name(i, sex))
        status = Member.Status.APPLIED if i > 27 else Member.Status.VERIFIED
        member = _member(
            user,
            role=Member.Role.VOLUNTEER,
            street=streets[STREET_CODES[i % 3]],
            birth=birth,
            sex=sex,
            serial=100 + i,
            status=status,
            emergency_contact_name=_name(i + 5, "F" if sex == "M" else "M"),
            emergency_contact_phone=f"+86135000000{i:02d}",
        )
        if status == Member.Status.VERIFIED:
            Training.objects.get_or_create(
                member=member,
                course="为老服务志愿者岗前培训",
                defaults={"completed_on": today - timedelta(days=60 + i)},
            )
            Insurance.objects.get_or_create(
                member=member,
                policy_number=f"PICC-DEMO-{i:04d}",
                defaults={
                    "insurer": "中国人民财产保险",
                    "valid_from": today - timedelta(days=30),
                    "valid_until": today + timedelta(days=335),
                },
            )
    for i in range(1, 31):
        sex = "F" if i % 2 else "M"
        code = STREET_CODES[i % 3]
        has_phone = i <= 25  # the last five have no phone: advisors registered them
        user = _user(
            f"elder{i:02d}",
            phone=f"+86136000000{i:02d}" if has_phone else None,
            full_name=_name(i + 11, sex, elder=True),
        )
        _member(
            user,
            role=Member.Role.ELDER,
            street=streets[code],
            birth=date(1934 + i % 20, 1 + i % 12, 1 + (i * 3) % 28),
            sex=sex,
            serial=300 + i,
            status=Member.Status.VERIFIED,
            assessment_level=2 + i % 4,
            registered_by=None if has_phone else advisors[code],
        )
    elder = User.objects.get(username="elder01")
    family = _user("family01", phone="+8613500000100", full_name="吴晓明")
    member = _member(
        family,
        role=Member.Role.FAMILY,
        street=elder.member.street,
        birth=date(1975, 5, 20),
        sex="M",
        serial=7,
        status=Member.Status.VERIFIED,
    )
    Relative.objects.get_or_create(
        member=member,
        relative=elder,
        defaults={
            "relation": Relative.Relation.PARENT,
            "relative_phone": elder.phone or "",
            "status": Relative.Status.CONFIRMED,
            "reviewed_at": timezone.now(),
        },
    )
    # And the other way round, so that elder 01's own page shows her confirmed son.
    Relative.objects.get_or_create(
        member=elder.member,
        relative=family,
        defaults={
            "relation": Relative.Relation.CHILD,
            "relative_phone": family.phone or "",
            "status": Relative.Status.CONFIRMED,
            "reviewed_at": timezone.now(),
        },
    )
    _seed_spending_people(streets)
    stdout.write(f"accounts: {len(STAFF)} staff, {Member.objects.count()} members")


def _seed_spending_people(streets) -> None:
    """Volunteer 06's parent is elder 06 (confirmed); elders 09 and 12 are in hardship."""
    from accounts.services import set_hardship

    volunteer = Member.objects.filter(user__username="volunteer06").first()
    parent = User.objects.filter(username="elder06").first()
    staff = User.objects.filter(username="staff01").first()
    if volunteer is None or parent is None or staff is None:
        return
    Relative.objects.get_or_create(
        member=volunteer,
        relative=parent,
        defaults={
            "relation": Relative.Relation.PARENT,
            "relative_phone": parent.phone or "",
            "status": Relative.Status.CONFIRMED,
            "reviewed_by": staff,
            "reviewed_at": timezone.now(),
        },
    )
    for username in ("elder09", "elder12"):
        member = Member.objects.filter(user__username=username, in_hardship=False).first()
        if member is not None:
            set_hardship(
                member=member, in_hardship=True, note="独居高龄，低保（演示数据）", actor=staff
            )
