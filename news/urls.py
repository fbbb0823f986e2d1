from django.urls import path

from news import views

app_name = "news"
urlpatterns = [
    path("", views.news_list, name="list"),
    path("<int:pk>/", views.news_detail, name="detail"),
    path("<int:pk>/picture/", views.news_image, name="image"),
]
