"""URLs of the package's tests: the admin (conftest.py loads this module by name)."""

from django.contrib import admin
from django.urls import path

urlpatterns = [path("admin/", admin.site.urls)]
