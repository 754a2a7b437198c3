from django.urls import path

from tandem.reports import views

app_name = "reports"
urlpatterns = [path("accounts/<int:account_id>/", views.account_report, name="account")]
