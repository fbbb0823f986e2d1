"""Demo news: two whole-district items of 长宁区 (one pinned), and notices of 天山 and 虹桥,
each written through the services by the staff who would write it. Safe to run again."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from accounts.models import User
from branches.models import Branch
from news.models import News
from news.services import publish_news

# (title, street code or None, category, pinned, days ago, writer's username, body)
ITEMS = [
    (
        "长宁区时间银行正式上线",
        None,
        News.Category.NOTICE,
        True,
        10,
        "staff21",
        "<p>长宁区养老服务“时间银行”今天起在全区各街道上线。</p>"
        "<p>年满 18 岁的居民可以报名成为志愿者，为老人提供<strong>助餐、助洁、陪伴</strong>等服务，"
        "服务时长存入个人账户，将来可以兑换服务或物品。</p>",
    ),
    (
        "时间币兑换规则解读",
        None,
        News.Category.POLICY,
        False,
        6,
        "staff21",
        "<h2>怎样获得时间币</h2><p>每完成 1 小时经确认的服务，获得 1 个时间币。</p>"
        "<h2>怎样使用</h2><ul><li>兑换养老服务</li><li>在兑换目录中兑换物品</li>"
        "<li>赠与家中老人</li></ul>",
    ),
    (
        "天山街道志愿者岗前培训报名",
        "tianshan",
        News.Category.ACTIVITY,
        False,
        3,
        "staff01",
        "<p>天山街道将于本月举办为老服务志愿者岗前培训，请到街道分行报名。</p>"
        "<blockquote>培训合格后即可接单服务。</blockquote>",
    ),
    (
        "虹桥街道为老服务中心开放时间调整",
        "hongqiao",
        News.Category.NOTICE,
        False,
        1,
        "staff02",
        "<p>虹桥社区综合为老服务中心自下周起开放时间调整为每天 8:00 至 18:00。</p>",
    ),
]


def seed(*, stdout) -> None:
    district = Branch.objects.filter(code="changning").first()
    if district is None:
        return
    streets = {b.code: b for b in Branch.objects.filter(parent=district)}
    writers = {u.username: u for u in User.objects.filter(username__in={i[5] for i in ITEMS})}
    fallback = User.objects.filter(username="admin").first()
    now = timezone.now()
    created = 0
    for title, code, category, pinned, days_ago, writer, body in ITEMS:
        street = streets.get(code) if code else None
        if News.objects.filter(title=title, district=district).exists() or (code and not street):
            continue
        publish_news(
            actor=writers.get(writer) or fallback,
            title=title,
            body=body,
            district=district,
            street=street,
            category=category,
            pinned=pinned,
            publish_at=now - timedelta(days=days_ago),
        )
        created += 1
    stdout.write(f"news: {created} new items, {News.objects.count()} in all")
