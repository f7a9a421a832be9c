"""One's own account (API tokens) and, for admins, the audit log."""

from django.urls import path

from . import account_views

urlpatterns = [
    path("tokens/", account_views.token_list, name="token_list"),
    path("tokens/new/", account_views.token_create, name="token_create"),
    path("tokens/<int:pk>/revoke/", account_views.token_revoke, name="token_revoke"),
    path("audit/", account_views.audit_log, name="audit_log"),
    path("audit/export/", account_views.audit_export, name="audit_export"),
]
