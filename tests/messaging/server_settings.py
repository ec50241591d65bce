"""Settings for the uvicorn processes that tests/messaging/test_multiprocess.py starts.

The base settings read DATABASE_URL (the test run's database) and REDIS_URL from the
environment the test gives them; TEST_SERVER_PREFIX keeps the channel layer and the rate-limit
counters of one test's servers together and apart from every other run sharing that Redis.
"""

from config.settings.base import *  # noqa: F403
from config.settings.base import CACHES, CHANNEL_LAYERS, env

_prefix = env.str("TEST_SERVER_PREFIX")
CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = f"asgi-{_prefix}"
RATE_LIMIT_KEY_PREFIX = f"jinlin-limits-{_prefix}"
CACHES["default"]["KEY_PREFIX"] = f"jinlin-{_prefix}"
# These servers are driven faster than a person types; the limits have their own tests
# (tests/messaging/test_consumers.py). They are still counted, in Redis, on every send.
MESSAGE_RATE_LIMITS = "1000 per second"
