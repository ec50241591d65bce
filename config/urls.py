from django.contrib import admin
from django.urls import include, path

from aid_posts.views import home

urlpatterns = [
    path("", home, name="home"),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("posts/", include("aid_posts.urls")),
    path("talent/", include("talent_pool.urls")),
    path("messages/", include("messaging.urls")),
    path("", include("neighbors.urls")),
    path("admin/", admin.site.urls),
]
