"""The site's own rate limits: posting requests, offering help, sending messages, and the public
certificate check. Each is a list of windows in `limits`' syntax ("8 per 10 seconds; 30 per
minute") from settings, counted with a moving window in RATE_LIMIT_STORAGE_URL: the Redis that
also holds the cache, and so allauth's limits, when there is one, so that every worker counts
together; memory in the embedded profile.

A caller asks `rate_limit_hit(action, key, rates)` and raises its own refusal (its sentence is
its own) when it answers a number of seconds.
"""

import functools
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from limits import parse_many
from limits.errors import StorageError
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

logger = logging.getLogger(__name__)


@functools.cache
def _storage(url: str, prefix: str) -> Storage:
    # One connection pool per process and store.
    return storage_from_string(url, key_prefix=prefix, wrap_exceptions=True)


def _limiter() -> MovingWindowRateLimiter:
    return MovingWindowRateLimiter(_storage(settings.RATE_LIMIT_STORAGE_URL, settings.RATE_LIMIT_KEY_PREFIX))


@functools.cache
def _rates(text: str) -> list:
    return parse_many(text)


def rate_limit_hit(action: str, key: str, rates: str) -> int | None:
    """Count one `action` by `key` against each window in turn (one round trip each in Redis);
    at the first full one answer how many whole seconds to wait, else None. A refused attempt
    has counted against the windows before it, which only slows a client that keeps hammering.

    If the store is down, nothing is counted and None is answered: what the limits guard is
    still checked and stored in the database, and refusing everyone for a Redis outage would
    be worse than a few minutes without limits. It is logged."""
    limiter = _limiter()
    try:
        for rate in _rates(rates):
            if not limiter.hit(rate, action, key):
                reset_at = limiter.get_window_stats(rate, action, key).reset_time
                return max(1, int(reset_at - timezone.now().timestamp()) + 1)
    except StorageError:
        logger.warning("rate-limit storage unavailable; %s by %s not counted", action, key, exc_info=True)
    return None


def rate_limits_reset() -> None:
    """Forget every count of this site's prefix (tests start each case clean)."""
    _limiter().storage.reset()


class TooFast(ValidationError):
    """Posting or offering help faster than a person does: refused before anything is stored.
    A ValidationError, so that the form shows it; `retry_after` in whole seconds."""

    def __init__(self, text: str, retry_after: int) -> None:
        super().__init__(text, code="rate_limited")
        self.retry_after = retry_after


def posting_check(actor) -> None:
    """Count one request posted by `actor` (for themselves or for a resident); refuse when over
    POST_RATE_LIMITS."""
    wait = rate_limit_hit("post", str(actor.pk), settings.POST_RATE_LIMITS)
    if wait is not None:
        raise TooFast(_wait_text(gettext("You have posted many requests in a short time."), wait), wait)


def claiming_check(actor) -> None:
    """Count one offer of help by `actor`; refuse when over CLAIM_RATE_LIMITS."""
    wait = rate_limit_hit("claim", str(actor.pk), settings.CLAIM_RATE_LIMITS)
    if wait is not None:
        raise TooFast(_wait_text(gettext("You have offered help many times in a short time."), wait), wait)


def _wait_text(what: str, seconds: int) -> str:
    minutes = max(1, (seconds + 59) // 60)
    return (
        what
        + " "
        + ngettext(
            "Wait %(minutes)d minute and try again.",
            "Wait %(minutes)d minutes and try again.",
            minutes,
        )
        % {"minutes": minutes}
    )
