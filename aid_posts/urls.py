from django.urls import path

from . import views

app_name = "aid_posts"
urlpatterns = [
    path("", views.post_list, name="list"),
    path("new/", views.post_create, name="create"),
    path("<int:pk>/", views.post_detail, name="detail"),
    path("<int:pk>/claim/", views.post_claim, name="claim"),
    path("<int:pk>/claim/accept/", views.claim_accept, name="claim_accept"),
    path("<int:pk>/claim/decline/", views.claim_decline, name="claim_decline"),
    path("<int:pk>/claim/withdraw/", views.claim_withdraw, name="claim_withdraw"),
    path("<int:pk>/done/", views.post_mark_done, name="mark_done"),
    path("<int:pk>/confirm/", views.post_confirm, name="confirm"),
    path("<int:pk>/cancel/", views.post_cancel, name="cancel"),
    path("<int:pk>/reveal/", views.post_reveal_contact, name="reveal_contact"),
    path("roles/", views.role_list, name="role_list"),
    path("roles/new/", views.role_create, name="role_create"),
    path("roles/<int:pk>/", views.role_detail, name="role_detail"),
    path("roles/<int:pk>/claim/", views.role_claim, name="role_claim"),
    path("roles/<int:pk>/claim/withdraw/", views.role_claim_withdraw, name="role_claim_withdraw"),
    path("roles/<int:pk>/step-down/", views.role_step_down, name="role_step_down"),
    path("roles/<int:pk>/claims/<int:claim_pk>/approve/", views.role_claim_approve, name="role_claim_approve"),
    path("roles/<int:pk>/claims/<int:claim_pk>/decline/", views.role_claim_decline, name="role_claim_decline"),
    path("roles/<int:pk>/duties/", views.duty_log, name="duty_log"),
    path("roles/<int:pk>/duties/<int:duty_pk>/confirm/", views.duty_confirm, name="duty_confirm"),
    path("roles/<int:pk>/duties/<int:duty_pk>/reject/", views.duty_reject, name="duty_reject"),
]
