"""Exports (under /reports/exports/): the list, each download, and big exports' jobs."""

from django.urls import path, register_converter

from reports import export_views


class _ExportName:
    regex = "[a-z0-9-]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(_ExportName, "export_name")

urlpatterns = [
    path("", export_views.exports, name="exports"),
    path("jobs/<uuid:pk>/", export_views.export_job, name="export_job"),
    path("jobs/<uuid:pk>/file/", export_views.export_job_file, name="export_job_file"),
    path("<export_name:name>.<str:fmt>", export_views.export_download, name="export_download"),
]
