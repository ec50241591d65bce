"""Email what people missed while away, for a scheduler (cron) to call every minute.

Each notification and each batch of unread messages is claimed by a conditional update before
its email is sent, so running it twice (or two at once) sends each email once.
"""

from django.core.management.base import BaseCommand

from messaging.services import emails_send


class Command(BaseCommand):
    help = "Email important notifications and unread messages to people who are not on the site. Safe to rerun."

    def handle(self, *args, **options) -> None:
        self.stdout.write(f"emails sent {emails_send()}")
