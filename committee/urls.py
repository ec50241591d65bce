from django.urls import path

from . import views

app_name = "committee"
urlpatterns = [
    path("report/<str:kind>/<int:pk>/", views.report, name="report"),
    path("reports/", views.open_reports, name="reports"),
    path("reports/<int:pk>/dismiss/", views.report_dismiss, name="report_dismiss"),
    path("held/", views.held_messages, name="held"),
    path("held/<int:message_id>/release/", views.held_release, name="held_release"),
    path("held/<int:message_id>/reject/", views.held_reject, name="held_reject"),
]
