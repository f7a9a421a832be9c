from django.urls import path

from . import classroom_views, lab_views, seat_views

urlpatterns = [
    path("classrooms/", classroom_views.classroom_list, name="classroom_list"),
    path("classrooms/new/", classroom_views.classroom_create_view, name="classroom_create"),
    path("classrooms/<int:pk>/", classroom_views.classroom_detail, name="classroom_detail"),
    path("classrooms/<int:pk>/provision/", classroom_views.classroom_provision_view, name="classroom_provision"),
    path("classrooms/<int:pk>/end/", classroom_views.classroom_end_view, name="classroom_end"),
    path("classrooms/<int:pk>/roster/", classroom_views.classroom_roster, name="classroom_roster"),
    path("classrooms/<int:pk>/broadcast/", classroom_views.classroom_broadcast_view, name="classroom_broadcast"),
    path("classrooms/<int:pk>/results.csv", classroom_views.classroom_results, name="classroom_results"),
    path("classrooms/<int:pk>/passwords.csv", classroom_views.classroom_passwords, name="classroom_passwords"),
    path("labs/new/", lab_views.lab_template_edit, name="lab_template_create"),
    path("labs/<int:pk>/", lab_views.lab_template_edit, name="lab_template_edit"),
    path("labs/<int:pk>/duplicate/", lab_views.lab_template_duplicate_view, name="lab_template_duplicate"),
    path("labs/<int:pk>/delete/", lab_views.lab_template_delete, name="lab_template_delete"),
    path("labs/<int:pk>/preview/", lab_views.lab_template_preview, name="lab_template_preview"),
    path("seats/<int:pk>/", seat_views.seat_detail, name="seat_detail"),
    path("seats/<int:pk>/panel/", seat_views.seat_panel, name="seat_panel"),
    path("seats/<int:pk>/reset/", classroom_views.seat_reset_view, name="seat_reset"),
    path("join/", seat_views.join, name="join"),
    path("join/<str:code>/", seat_views.join_class, name="join_class"),
    path("join/<str:code>/signup/", seat_views.join_signup, name="join_signup"),
]
