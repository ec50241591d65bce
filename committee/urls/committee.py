from django.urls import path

from ..views import reports

app_name = "committee"
urlpatterns = [
    path("report/<str:kind>/<int:pk>/", reports.report, name="report"),
    path("reports/", reports.open_reports, name="reports"),
    path("reports/<int:pk>/dismiss/", reports.report_dismiss, name="report_dismiss"),
    path("held/", reports.held_messages, name="held"),
    path("held/<int:message_id>/release/", reports.held_release, name="held_release"),
    path("held/<int:message_id>/reject/", reports.held_reject, name="held_reject"),
]
