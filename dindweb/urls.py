from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/", include("environments.api.urls")),
    path("", include("environments.account_urls")),
    path("", include("environments.urls")),
]
