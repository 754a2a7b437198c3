from django.urls import path

from tandem.revenue import views

app_name = "revenue"
urlpatterns = [
    path("", views.revenue_page, name="summary"),
    path("recompute/", views.revenue_recompute, name="summary_recompute"),
    path("retention/", views.retention_page, name="retention"),
]
