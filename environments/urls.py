from django.urls import path, re_path

from . import file_views, host_views, proxy_views, quota_views, views
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
    path("hosts/", host_views.host_list, name="host_list"),
    path("hosts/new/", host_views.host_create, name="host_create"),
    path("hosts/<int:pk>/", host_views.host_detail, name="host_detail"),
    path("hosts/<int:pk>/save/", host_views.host_save, name="host_save"),
    path("hosts/<int:pk>/check/", host_views.host_check, name="host_check"),
    path("hosts/<int:pk>/images/", host_views.host_copy_images, name="host_copy_images"),
    path("hosts/<int:pk>/remove/", host_views.host_remove, name="host_remove"),
    path("environments/<int:pk>/move/", host_views.environment_move, name="environment_move"),
    path("environments/<int:pk>/logs/", views.environment_logs, name="environment_logs"),
    path("environments/<int:pk>/logs/download/", views.environment_logs_download,
         name="environment_logs_download"),
    re_path(rf"^environments/(?P<pk>[0-9]+)/containers/(?P<cid>{NESTED_CONTAINER_PATTERN})/shell/$",
            views.nested_container_shell, name="nested_container_shell"),
    # Ports and files of an environment (issue 6).
    path("environments/<int:pk>/ports/", proxy_views.port_open, name="port_open"),
    re_path(r"^environments/(?P<pk>[0-9]+)/ports/(?P<port>[0-9]{1,5})/(?P<path>.*)$", proxy_views.port_proxy,
            name="port_proxy"),
    path("environments/<int:pk>/files/", file_views.file_browser, name="file_browser"),
    path("environments/<int:pk>/files/upload/", file_views.file_upload, name="file_upload"),
    path("environments/<int:pk>/files/download/", file_views.file_download, name="file_download"),
]
