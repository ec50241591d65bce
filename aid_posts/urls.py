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
]
