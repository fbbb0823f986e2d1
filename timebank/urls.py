from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from honour import views_certificates
from ledger import admin_donations
from orders import spend_views
from timebank import admin_policy, views

admin.site.site_header = _("Time Bank administration")
admin.site.site_title = _("Time Bank")
admin.site.index_title = _("Management")
# Staff log in like everyone else, with their phone (and SMS code); the admin's own form would
# ask for a generated username nobody knows, and would bypass allauth's rate limits.
admin.site.login = secure_admin_login(admin.site.login)
# A lost database connection raised in a middleware answers 503, as one in a view does.
handler500 = "timebank.outages.server_error"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon),
    path("i18n/", include("django.conf.urls.i18n")),
    path("auth/", include("allauth.urls")),
    path("me/", include("accounts.urls")),
    path("org/", include("branches.urls")),
    path("coins/spend/", spend_views.spend, name="spend_coins"),
    path("coins/", include("ledger.urls")),
    path("orders/", include("orders.urls")),
    path("exchange/", include("exchange.urls")),
    path("honour/", include("honour.urls")),
    path("verify/<str:number>/", views_certificates.verify, name="verify"),
    path("reports/", include("reports.urls")),
    path("news/", include("news.urls")),
    path("inbox/", include("notices.urls")),
    path(
        "admin/ledger/account/allocate-donations/",
        admin_donations.allocate_view,
        name="admin_allocate_donations",
    ),
    path("admin/policy/", admin_policy.policy_admin_view, name="admin_policy"),
    path("admin/", admin.site.urls),
]
# No media is served publicly: documents and signatures go out through views that check who
# asks (accounts, branches, orders).
