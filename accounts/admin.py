from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "full_name", "phone", "is_staff", "is_active")
    search_fields = ("username", "full_name", "phone")
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (_("Time bank"), {"fields": ("full_name", "phone", "phone_verified")}),
    )
