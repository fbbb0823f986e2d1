from django.urls import include, path

app_name = "reports"
# One module of routes per part of the reports (the dashboard, exports, printable PDFs).
urlpatterns = [
    path("", include("reports.urls_dashboard")),
    path("exports/", include("reports.urls_exports")),
    path("print/", include("reports.urls_pdf")),
]
