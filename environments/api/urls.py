from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from . import files, views

urlpatterns = [
    path("v1/environments/", views.EnvironmentListView.as_view(), name="api_environments"),
    path("v1/environments/<int:pk>/", views.EnvironmentDetailView.as_view(), name="api_environment"),
    path("v1/environments/<int:pk>/exec/", views.EnvironmentExecView.as_view(), name="api_environment_exec"),
    path("v1/environments/<int:pk>/containers/", views.NestedContainerListView.as_view(),
         name="api_environment_containers"),
    path("v1/environments/<int:pk>/extend/", views.EnvironmentExtendView.as_view(), name="api_environment_extend"),
    path("v1/environments/<int:pk>/resize/", views.EnvironmentResizeView.as_view(), name="api_environment_resize"),
    path("v1/environments/<int:pk>/files/", files.FileListView.as_view(), name="api_environment_files"),
    path("v1/environments/<int:pk>/files/download/", files.FileDownloadView.as_view(),
         name="api_environment_files_download"),
    path("schema/", SpectacularAPIView.as_view(), name="api_schema"),
]
urlpatterns += [
    path(f"v1/environments/<int:pk>/{action}/", views.EnvironmentActionView.as_view(action=action),
         name=f"api_environment_{action}")
    for action in ("start", "stop", "restart")
]
