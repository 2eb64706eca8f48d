# bankproject/urls.py
from django.contrib import admin
from django.urls import path

from bank import views

urlpatterns = [
    path("admin/", admin.site.urls),  # Event Sourcery's streams and events, read-only
    path("accounts/", views.open_account),
    path("accounts/<uuid:account>/", views.balance),
    path("accounts/<uuid:account>/deposits/", views.deposit),
    path("accounts/<uuid:account>/async-deposits/", views.deposit_async),
]
