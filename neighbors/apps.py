from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NeighborsConfig(AppConfig):
    name = "neighbors"
    verbose_name = _("Neighbours")
