from django.urls import path

from tandem.accounts import views

app_name = "accounts"
urlpatterns = [
    path("", views.account_list, name="list"),
    path("<int:account_id>/", views.account_detail, name="detail"),
    path("<int:account_id>/usage-chart/", views.account_usage_chart, name="usage_chart"),
]
