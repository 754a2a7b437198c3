from django.urls import path

from tandem.webhooks import views

app_name = "webhooks"
urlpatterns = [
    path("settings/webhooks/", views.endpoint_list, name="list"),
    path("settings/webhooks/new/", views.endpoint_new, name="new"),
    path("settings/webhooks/<int:endpoint_id>/", views.endpoint_detail, name="detail"),
    path("settings/webhooks/<int:endpoint_id>/rotate-secret/", views.endpoint_rotate, name="rotate"),
    path("settings/webhooks/<int:endpoint_id>/test/", views.endpoint_test, name="test"),
    path("settings/webhooks/<int:endpoint_id>/delete/", views.endpoint_remove, name="delete"),
    path("settings/webhooks/deliveries/<int:delivery_id>/replay/", views.delivery_replay, name="replay"),
]
