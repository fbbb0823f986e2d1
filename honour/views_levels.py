"""Honour pages: levels (URLs collected by honour/urls.py). 我的荣誉: the member's stars, hours
served, what the next level needs, the rights of each level and their certificates."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_safe

from accounts.selectors import member_of
from honour.certificates import TITLES, certificates_of
from honour.levels import honour_of
from timebank.policy import get_policy


@login_required
@require_safe
def mine(request):
    if member_of(request.user) is None:
        return redirect("accounts:profile")
    context = {
        "honour": honour_of(request.user),
        # each with its printed title ("荣誉等级证书"), not the kind's short label
        "certificates": [(c, TITLES[c.kind]) for c in certificates_of(request.user)],
        "admission_offered": get_policy().admission_threshold_minutes is not None,
    }
    return render(request, "honour/levels/mine.html", context)


urlpatterns: list = [
    path("", mine, name="mine"),
]
