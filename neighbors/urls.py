from django.urls import path

from . import views

app_name = "neighbors"
urlpatterns = [
    path("privacy/", views.privacy_notice, name="privacy"),
    path("communities/", views.communities, name="communities"),
    path("communities/requests/", views.membership_queue, name="membership_queue"),
    path("communities/requests/<int:pk>/approve/", views.membership_approve, name="membership_approve"),
    path("communities/requests/<int:pk>/decline/", views.membership_decline, name="membership_decline"),
    path("me/", views.profile_edit, name="profile"),
    path("me/points/", views.points, name="points"),
    path("me/seen-my-details/", views.disclosures, name="disclosures"),
]
