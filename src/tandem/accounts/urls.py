from django.urls import path

from tandem.accounts import edit_views, views

app_name = "accounts"
urlpatterns = [
    path("", views.account_list, name="list"),
    path("export.csv", views.account_export, name="export"),
    path("new/", edit_views.account_new, name="new"),
    path("search/", edit_views.account_search, name="search"),
    path("<int:account_id>/", views.account_detail, name="detail"),
    path("<int:account_id>/edit/", edit_views.account_edit, name="edit"),
    path("<int:account_id>/archive/", edit_views.account_archive, name="archive"),
    path("<int:account_id>/contacts/new/", edit_views.contact_new, name="contact_new"),
    path("<int:account_id>/usage-chart/", views.account_usage_chart, name="usage_chart"),
    path("contacts/", edit_views.contact_list, name="contacts"),
    path("contacts/export.csv", views.contact_export, name="contacts_export"),
    path("contacts/new/", edit_views.contact_new_any, name="contact_new_any"),
    path("contacts/<int:contact_id>/", edit_views.contact_detail, name="contact"),
    path("contacts/<int:contact_id>/edit/", edit_views.contact_edit, name="contact_edit"),
    path("contacts/<int:contact_id>/left/", edit_views.contact_left, name="contact_left"),
]
