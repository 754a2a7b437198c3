from django.urls import path

from tandem.subscriptions import views

app_name = "subscriptions"
urlpatterns = [
    path("<int:subscription_id>/edit/", views.subscription_edit, name="edit"),
    path("accounts/<int:account_id>/new/", views.subscription_new, name="new"),
]
