from django.urls import path

from tandem.subscriptions import product_views, views

app_name = "subscriptions"
urlpatterns = [
    path("<int:subscription_id>/edit/", views.subscription_edit, name="edit"),
    path("accounts/<int:account_id>/new/", views.subscription_new, name="new"),
    path("products/", product_views.product_list, name="products"),
    path("products/<int:product_id>/", product_views.product_edit, name="product_edit"),
]
