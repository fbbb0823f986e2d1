"""/honour/: each part of the app keeps its own pages (views_levels, views_certificates,
views_awards); the public check of a certificate, /verify/<number>/, is in timebank/urls.py."""

from honour import views_awards, views_certificates, views_levels

app_name = "honour"
urlpatterns = [
    *views_levels.urlpatterns,
    *views_certificates.urlpatterns,
    *views_awards.urlpatterns,
]
