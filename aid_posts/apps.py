from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AidPostsConfig(AppConfig):
    name = "aid_posts"
    verbose_name = _("Help requests")
