from django.urls import path, re_path

from . import views
from .models import NESTED_CONTAINER_PATTERN

urlpatterns = [
    path("", views.environment_list, name="environment_list"),
    path("environments/new/", views.environment_create, name="environment_create"),
    path("environments/<int:pk>/", views.environment_detail, name="environment_detail"),
    path("environments/<int:pk>/status/", views.environment_status, name="environment_status"),
    path("environments/<int:pk>/inside/", views.environment_inside, name="environment_inside"),
    re_path(r"^environments/(?P<pk>[0-9]+)/(?P<action>start|stop|restart|delete)/$",
            views.environment_action, name="environment_action"),
    path("environments/<int:pk>/logs/", views.environment_logs, name="environment_logs"),
    path("environments/<int:pk>/logs/download/", views.environment_logs_download,
         name="environment_logs_download"),
    re_path(rf"^environments/(?P<pk>[0-9]+)/containers/(?P<cid>{NESTED_CONTAINER_PATTERN})/shell/$",
            views.nested_container_shell, name="nested_container_shell"),
]
