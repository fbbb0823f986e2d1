"""The categories of SPEC.md ("Services"): Changning's institution and home lists, Beijing's
eight, and the housekeeping ones that are refused (flagged so posting them explains why)."""

from django.db import migrations

CATEGORIES = [
    # code, Chinese, English, mode, housekeeping
    ("escort", "接送", "Escorting", "institution", False),
    ("watching", "看护", "Watching over", "institution", False),
    ("companionship-institution", "陪伴(机构)", "Companionship (institution)", "institution", False),
    ("meal-help", "助餐", "Meal help", "institution", False),
    ("companionship-home", "陪伴(居家)", "Companionship (home)", "home", False),
    ("errands", "代办", "Errands", "home", False),
    ("walking-help", "助行", "Walking help", "home", False),
    ("doctor-escort", "助医", "Escort to the doctor", "home", False),
    ("emotional-comfort", "情感慰藉", "Emotional comfort", "any", False),
    ("assistance", "协助服务", "Assistance", "any", False),
    ("travel-companionship", "出行陪伴", "Travel companionship", "any", False),
    ("culture-sport", "文体活动", "Culture and sport", "any", False),
    ("health-education", "健康科普", "Health education", "any", False),
    ("legal-aid", "法律援助", "Legal aid", "any", False),
    ("training-lecture", "培训讲座", "Training lectures", "any", False),
    ("anti-fraud", "防范金融和网络风险", "Guarding against financial and online fraud", "any", False),
    ("cleaning", "保洁", "Cleaning", "any", True),
    ("cooking", "做饭", "Cooking", "any", True),
    ("laundry", "洗衣", "Laundry", "any", True),
]


def seed(apps, schema_editor):
    ServiceCategory = apps.get_model("orders", "ServiceCategory")
    for order, (code, name, name_en, mode, housekeeping) in enumerate(CATEGORIES, start=1):
        ServiceCategory.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "name_en": name_en,
                "mode": mode,
                "is_housekeeping": housekeeping,
                "sort_order": order * 10,
            },
        )


def unseed(apps, schema_editor):
    apps.get_model("orders", "ServiceCategory").objects.filter(
        code__in=[c[0] for c in CATEGORIES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("orders", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
