from django.urls import path

from . import views

app_name = "talent_pool"
urlpatterns = [
    path("", views.directory, name="directory"),
    path("me/", views.my_profile, name="my_profile"),
    path("me/skills/", views.skill_add, name="skill_add"),
    path("me/skills/<int:pk>/remove/", views.skill_remove, name="skill_remove"),
    path("me/skills/<int:pk>/credentials/", views.credential_upload, name="credential_upload"),
    path("me/availability/", views.availability, name="availability"),
    path("credentials/", views.credential_queue, name="credential_queue"),
    path("credentials/<int:pk>/image/", views.credential_image, name="credential_image"),
    path("credentials/<int:pk>/thumbnail/", views.credential_thumbnail, name="credential_thumbnail"),
    path("credentials/<int:pk>/verify/", views.credential_verify, name="credential_verify"),
    path("credentials/<int:pk>/reject/", views.credential_reject, name="credential_reject"),
    path("skills/<int:pk>/vouch/", views.skill_vouch, name="skill_vouch"),
    path("<int:user_id>/", views.talent, name="talent"),
]
