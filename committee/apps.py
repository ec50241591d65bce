from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommitteeConfig(AppConfig):
    name = "committee"
    verbose_name = _("Committee workspace")

    def ready(self) -> None:
        # Tell neighbors how to export and erase this app's part of a person's data.
        from neighbors.data_rights import DataHolder, data_holder_register

        from . import data_rights

        data_holder_register(
            DataHolder(
                label="committee",
                export=data_rights.user_data_export,
                consequences=data_rights.user_data_consequences,
                erase=lambda user: data_rights.user_data_erase(user=user),
            )
        )
