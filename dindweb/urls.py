from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/", include("environments.api.urls")),
    path("", include("environments.account_urls")),
    path("", include("environments.urls")),
    path("", include("environments.classroom_urls")),
]

# Self-contained (no base template, no database) so they render even when much is broken.
handler400 = "environments.error_views.bad_request"
handler403 = "environments.error_views.permission_denied"
handler404 = "environments.error_views.not_found"
handler500 = "environments.error_views.server_error"
