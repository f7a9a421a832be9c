from django.urls import path, re_path

from . import quota_views, views
from .models import NESTED_CONTAINER_PATTERN

urlpatterns = [
    path("", views.environment_list, name="environment_list"),
    path("environments/new/", views.environment_create, name="environment_create"),
    path("environments/<int:pk>/", views.environment_detail, name="environment_detail"),
    path("environments/<int:pk>/status/", views.environment_status, name="environment_status"),
    path("environments/<int:pk>/inside/", views.environment_inside, name="environment_inside"),
    re_path(r"^environments/(?P<pk>[0-9]+)/(?P<action>start|stop|restart|delete)/$",
            views.environment_action, name="environment_action"),
    path("environments/<int:pk>/extend/", views.environment_extend, name="environment_extend"),
    path("usage/", quota_views.usage, name="usage"),
    path("quotas/", quota_views.quota_list, name="quota_list"),
    path("quotas/new/", quota_views.quota_save, name="quota_create"),
    path("quotas/<int:pk>/", quota_views.quota_save, name="quota_save"),
    path("quotas/<int:pk>/remove/", quota_views.quota_delete, name="quota_delete"),
    path("quotas/overview/", quota_views.overview, name="quota_overview"),
    path("environments/<int:pk>/logs/", views.environment_logs, name="environment_logs"),
    path("environments/<int:pk>/logs/download/", views.environment_logs_download,
         name="environment_logs_download"),
    re_path(rf"^environments/(?P<pk>[0-9]+)/containers/(?P<cid>{NESTED_CONTAINER_PATTERN})/shell/$",
            views.nested_container_shell, name="nested_container_shell"),
]
