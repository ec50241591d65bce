"""Remind talents whose verified certificate expires soon; meant for a daily cron job.

Safe to run as often as you like: each certificate is reminded of once.
"""

from django.conf import settings
from django.core.management.base import BaseCommand

from talent_pool import services


class Command(BaseCommand):
    help = "Email talents whose verified certificate expires within CREDENTIAL_REMINDER_DAYS (once per certificate)."

    def handle(self, *args, **options) -> None:
        sent = services.credentials_remind()
        self.stdout.write(
            f"Sent {sent} certificate expiry reminder(s) (window: {settings.CREDENTIAL_REMINDER_DAYS} days)."
        )
