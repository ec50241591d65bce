from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve

from aid_posts.views.requests import home
from neighbors.views import LoginView

# See config/errors.py: under ASGI these run off the request's thread.
handler400 = "config.errors.bad_request"
handler403 = "config.errors.permission_denied"
handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"

urlpatterns = [
    path("", home, name="home"),
    # allauth's, answering 429 past the failed-login limit (before allauth's own route).
    path("accounts/login/", LoginView.as_view(), name="account_login"),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("posts/", include("aid_posts.urls")),
    path("talent/", include("talent_pool.urls")),
    path("messages/", include("messaging.urls")),
    path("committee/", include("committee.urls.committee")),
    path("rewards/", include("committee.urls.rewards")),
    path("", include("neighbors.urls")),
    path("admin/", admin.site.urls),
]

if settings.SERVE_MEDIA:
    # The embedded profile serves uploads itself; in production the reverse proxy does.
    # Stored names are random (see neighbors/images.py), so a URL cannot be guessed.
    urlpatterns += [re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT})]
