from django.urls import path

from reports import pdf_views

urlpatterns: list = [
    path("statement.pdf", pdf_views.statement_pdf_view, name="statement_pdf"),
]
