from django.urls import path

from . import views

app_name = "messaging"
urlpatterns = [
    path("", views.conversation_list, name="list"),
    path("announcements/<int:community_id>/", views.announcements, name="announcements"),
    path("committee/<int:community_id>/", views.committee_open, name="committee_open"),
    path("committee/<int:community_id>/member/<int:user_id>/", views.committee_open, name="committee_open_member"),
    path("<int:pk>/", views.conversation_detail, name="conversation"),
    path("<int:pk>/image/", views.message_upload, name="message_upload"),
    path("<int:pk>/share-contact/", views.share_contact, name="share_contact"),
    path("<int:pk>/ask-committee/", views.ask_committee, name="ask_committee"),
    path("<int:pk>/m/<int:message_id>/contact/", views.contact_reveal, name="contact_reveal"),
    path("<int:pk>/m/<int:message_id>/edit/", views.message_edit, name="message_edit"),
    path("<int:pk>/m/<int:message_id>/delete/", views.message_delete, name="message_delete"),
    path("<int:pk>/m/<int:message_id>/image/", views.message_image, {"size": "image"}, name="message_image"),
    path(
        "<int:pk>/m/<int:message_id>/thumbnail/",
        views.message_image,
        {"size": "thumbnail"},
        name="message_thumbnail",
    ),
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/read/", views.notifications_mark_read, name="notifications_mark_read"),
    path("notifications/email/", views.email_preferences, name="email_preferences"),
    path("notifications/<int:pk>/open/", views.notification_open, name="notification_open"),
]
