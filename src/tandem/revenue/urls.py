from django.urls import path

from tandem.revenue import views

app_name = "revenue"
urlpatterns = [
    path("", views.revenue_page, name="summary"),
    path("retention/", views.retention_page, name="retention"),
]
