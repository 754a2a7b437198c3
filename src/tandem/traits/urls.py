from django.urls import path

from tandem.traits import views

app_name = "traits"
urlpatterns = [
    path("settings/custom-fields/", views.trait_list, name="list"),
    path("settings/custom-fields/<int:trait_id>/", views.trait_edit, name="edit"),
    path("settings/custom-fields/<int:trait_id>/delete/", views.trait_remove, name="delete"),
]
