from django.urls import path

from ..views import audit, certificates, dashboard, home, moderation, reports, rewards, words

app_name = "committee"
urlpatterns = [
    path("", home.workspace, name="home"),
    # Reports: filed by any member; the committee's queue and what it does with one.
    path("report/<str:kind>/<int:pk>/", reports.report, name="report"),
    path("reports/", reports.open_reports, name="reports"),
    path("reports/<int:pk>/dismiss/", reports.report_dismiss, name="report_dismiss"),
    path("reports/<int:pk>/hide/", moderation.report_hide, name="report_hide"),
    path("reports/<int:pk>/warn/", moderation.report_warn, name="report_warn"),
    path("reports/<int:pk>/suspend/", moderation.report_suspend, name="report_suspend"),
    path("reports/<int:pk>/remove/", moderation.report_remove, name="report_remove"),
    # Held for review by the sensitive-word list: messages and requests.
    path("held/", reports.held_messages, name="held"),
    path("held/<int:message_id>/release/", reports.held_release, name="held_release"),
    path("held/<int:message_id>/reject/", reports.held_reject, name="held_reject"),
    path("held/posts/<int:post_id>/release/", reports.held_post_release, name="held_post_release"),
    path("held/posts/<int:post_id>/reject/", reports.held_post_reject, name="held_post_reject"),
    path("words/", words.sensitive_words, name="words"),
    path("words/<int:community_id>/add/", words.word_add, name="word_add"),
    path("words/<int:pk>/remove/", words.word_remove, name="word_remove"),
    # Hidden content (restore), suspensions (lift early), and a member's page (warn, suspend,
    # remove, hide or restore their profile).
    path("hidden/", moderation.hidden_content, name="hidden"),
    path("hidden/<str:kind>/<int:pk>/restore/", moderation.content_restore, name="content_restore"),
    path("suspensions/", moderation.suspensions, name="suspensions"),
    path("suspensions/<int:pk>/lift/", moderation.suspension_lift, name="suspension_lift"),
    path("members/<int:pk>/", moderation.member, name="member"),
    path("members/<int:pk>/warn/", moderation.member_warn, name="member_warn"),
    path("members/<int:pk>/suspend/", moderation.member_suspend, name="member_suspend"),
    path("members/<int:pk>/remove/", moderation.member_remove, name="member_remove"),
    path("members/<int:pk>/profile/hide/", moderation.member_profile_hide, name="member_profile_hide"),
    path("members/<int:pk>/profile/restore/", moderation.member_profile_restore, name="member_profile_restore"),
    # Rewards: a member's ledger with award and correction, the catalogue kept, the redemptions queue.
    path("members/<int:membership_id>/ledger/", rewards.member_ledger, name="member_ledger"),
    path("members/<int:membership_id>/ledger/award/", rewards.ledger_award, name="ledger_award"),
    path("members/<int:membership_id>/ledger/correct/", rewards.ledger_correct, name="ledger_correct"),
    path("rewards/", rewards.rewards_manage, name="rewards"),
    path("rewards/new/", rewards.reward_create, name="reward_create"),
    path("rewards/<int:pk>/", rewards.reward_edit, name="reward_edit"),
    path("redemptions/", rewards.redemptions, name="redemptions"),
    path("redemptions/<int:pk>/fulfil/", rewards.redemption_fulfil, name="redemption_fulfil"),
    path("redemptions/<int:pk>/cancel/", rewards.redemption_cancel, name="redemption_cancel"),
    # Certificates: the committee's list with revoke, and issuing one to a member.
    path("certificates/", certificates.certificates_issued, name="certificates"),
    path("certificates/issue/<int:membership_id>/", certificates.certificate_issue, name="certificate_issue"),
    path("certificates/<int:pk>/revoke/", certificates.certificate_revoke, name="certificate_revoke"),
    # The dashboard (a community's, a street's) and the exports (一表通).
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("dashboard/<int:community_id>/", dashboard.community_dashboard, name="community_dashboard"),
    path("dashboard/street/<int:street_id>/", dashboard.street_dashboard, name="street_dashboard"),
    path("exports/", dashboard.exports, name="exports"),
    path("exports/<int:community_id>/", dashboard.community_exports, name="community_exports"),
    path("exports/<int:community_id>/csv/", dashboard.export_download, name="export_download"),
    # The record of every decision.
    path("audit/", audit.audit_log, name="audit"),
]
