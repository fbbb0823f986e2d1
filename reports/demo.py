"""Demo guarantee fund of 长宁区, so the obligations view shows its cover. Idempotent: a
fund already recorded (by the demo or by head office) is left as it is."""

from __future__ import annotations

from decimal import Decimal

from branches.models import Branch
from reports.models import GuaranteeFund

# Demo figures only: a fund of 300,000 yuan and 60 yuan for an hour of care bought on the
# market (a district records its own in admin).
FUND_YUAN = Decimal("300000.00")
PRICE_PER_HOUR_YUAN = Decimal("60.00")


def seed(*, stdout) -> None:
    district = Branch.objects.filter(code="changning", kind=Branch.Kind.DISTRICT).first()
    if district is None:
        return
    _fund, created = GuaranteeFund.objects.get_or_create(
        district=district,
        defaults={
            "fund_yuan": FUND_YUAN,
            "market_price_per_hour_yuan": PRICE_PER_HOUR_YUAN,
            "note": "演示数据",
        },
    )
    if created:
        stdout.write(f"Guarantee fund of {district}: {FUND_YUAN} yuan.")
