"""The housekeeping categories Shanghai's 2026 measures allow (cleaning, laundry, pet care).

They are flagged ``is_housekeeping``: posting them is refused unless the active policy has
``housekeeping_allowed`` (shanghai-2026), and the posting forms do not offer them then.
Cleaning and laundry were seeded by 0002; only pet care is new.
"""

from django.db import migrations

CATEGORIES = [
    # code, Chinese, English, sort order
    ("cleaning", "保洁", "Cleaning", 170),
    ("laundry", "洗衣", "Laundry", 190),
    ("pet-care", "宠物照料", "Pet care", 200),
]
NEW = ["pet-care"]


def seed(apps, schema_editor):
    ServiceCategory = apps.get_model("orders", "ServiceCategory")
    for code, name, name_en, order in CATEGORIES:
        category, created = ServiceCategory.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "name_en": name_en,
                "mode": "any",
                "is_housekeeping": True,
                "active": True,
                "sort_order": order,
            },
        )
        if not created and not category.is_housekeeping:
            category.is_housekeeping = True
            category.save(update_fields=["is_housekeeping"])


def unseed(apps, schema_editor):
    ServiceCategory = apps.get_model("orders", "ServiceCategory")
    ServiceRequest = apps.get_model("orders", "ServiceRequest")
    used = ServiceRequest.objects.values("category_id")
    ServiceCategory.objects.filter(code__in=NEW).exclude(pk__in=used).delete()


class Migration(migrations.Migration):
    dependencies = [("orders", "0003_need_submission_id")]
    operations = [migrations.RunPython(seed, unseed)]
