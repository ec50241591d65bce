from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = _("Messaging")

    def ready(self) -> None:
        # Tell neighbors how to export and erase this app's part of a person's data
        # (see neighbors/data_rights.py: neighbors may not import this app).
        from neighbors.data_rights import DataHolder, data_holder_register
        from neighbors.notices import notice_sender_register

        from . import selectors, services

        data_holder_register(
            DataHolder(
                label="messaging",
                export=selectors.user_data_export,
                consequences=selectors.user_data_consequences,
                erase=lambda user: services.user_data_erase(user=user),
            )
        )
        # And how they tell people about committee decisions (membership, certificates).
        notice_sender_register(services.notification_send_translated)
