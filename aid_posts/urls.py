from django.urls import path

from .views import requests, roles

app_name = "aid_posts"
urlpatterns = [
    path("", requests.post_list, name="list"),
    path("new/", requests.post_create, name="create"),
    path("<int:pk>/", requests.post_detail, name="detail"),
    path("<int:pk>/claim/", requests.post_claim, name="claim"),
    path("<int:pk>/claim/accept/", requests.claim_accept, name="claim_accept"),
    path("<int:pk>/claim/decline/", requests.claim_decline, name="claim_decline"),
    path("<int:pk>/claim/withdraw/", requests.claim_withdraw, name="claim_withdraw"),
    path("<int:pk>/done/", requests.post_mark_done, name="mark_done"),
    path("<int:pk>/confirm/", requests.post_confirm, name="confirm"),
    path("<int:pk>/cancel/", requests.post_cancel, name="cancel"),
    path("<int:pk>/reveal/", requests.post_reveal_contact, name="reveal_contact"),
    path("roles/", roles.role_list, name="role_list"),
    path("roles/new/", roles.role_create, name="role_create"),
    path("roles/<int:pk>/", roles.role_detail, name="role_detail"),
    path("roles/<int:pk>/claim/", roles.role_claim, name="role_claim"),
    path("roles/<int:pk>/claim/withdraw/", roles.role_claim_withdraw, name="role_claim_withdraw"),
    path("roles/<int:pk>/step-down/", roles.role_step_down, name="role_step_down"),
    path("roles/<int:pk>/claims/<int:claim_pk>/approve/", roles.role_claim_approve, name="role_claim_approve"),
    path("roles/<int:pk>/claims/<int:claim_pk>/decline/", roles.role_claim_decline, name="role_claim_decline"),
    path("roles/<int:pk>/duties/", roles.duty_log, name="duty_log"),
    path("roles/<int:pk>/duties/<int:duty_pk>/confirm/", roles.duty_confirm, name="duty_confirm"),
    path("roles/<int:pk>/duties/<int:duty_pk>/reject/", roles.duty_reject, name="duty_reject"),
]
