"""The periodic work on help requests, for a scheduler (cron) to call every few minutes.

Each step changes a row only with a conditional update from the state it looked for, and
each reminder is keyed, so running it twice (or two at once) does nothing more than once.
"""

from django.core.management.base import BaseCommand
from django.db import connection

from aid_posts.services import posts_escalate, posts_expire, posts_remind


class Command(BaseCommand):
    help = "Expire overdue help requests, escalate unanswered ones and send reminders. Safe to rerun."

    def handle(self, *args, **options) -> None:
        expired = posts_expire()
        escalated = posts_escalate()
        reminded = posts_remind()
        self.stdout.write(f"expired {expired}, escalated {escalated}, reminders sent {reminded}")
        if connection.vendor == "sqlite":
            # The embedded default has no autovacuum/analyze: SQLite's own periodic advice keeps
            # the planner's statistics fresh, so that the nearby count and the dispatch ranking
            # keep choosing their indexes as the tables grow (see bench/README.md).
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA optimize")
