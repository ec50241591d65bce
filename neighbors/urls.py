from django.urls import path

from . import views

app_name = "neighbors"
urlpatterns = [
    path("privacy/", views.privacy_notice, name="privacy"),
    path("help/", views.help_index, name="help"),
    path("help/<slug:audience>/", views.help_page, name="help_page"),
    path("preferences/large-text/", views.large_text_switch, name="large_text"),
    path("preferences/language/", views.language_switch, name="language"),
    path("communities/", views.communities, name="communities"),
    path("communities/<int:pk>/leave/", views.membership_leave, name="membership_leave"),
    path("communities/requests/", views.membership_queue, name="membership_queue"),
    path("communities/requests/<int:pk>/approve/", views.membership_approve, name="membership_approve"),
    path("communities/requests/<int:pk>/decline/", views.membership_decline, name="membership_decline"),
    path("communities/members/", views.members, name="members"),
    path("communities/members/<int:pk>/role/", views.membership_role_change, name="membership_role_change"),
    path("people/<int:pk>/", views.person, name="person"),
    path("people/<int:pk>/reveal/", views.person_reveal, name="person_reveal"),
    path("people/<int:pk>/block/", views.person_block, name="person_block"),
    path("people/<int:pk>/unblock/", views.person_unblock, name="person_unblock"),
    path("me/", views.profile_edit, name="profile"),
    path("me/contacts/", views.contacts, name="contacts"),
    path("me/consents/", views.consents, name="consents"),
    path("me/blocked/", views.blocked, name="blocked"),
    path("me/points/", views.points, name="points"),
    path("me/seen-my-details/", views.disclosures, name="disclosures"),
    path("me/data/", views.my_data, name="my_data"),
    path("me/data/export.json", views.my_data_export, name="my_data_export"),
    path("me/data/delete/", views.account_delete, name="account_delete"),
]
