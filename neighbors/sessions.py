"""Sessions read from the cache (Redis) and written through to the database, that go on from the
database alone while Redis is away.

Django's cached_db already survives a failed write to the cache, but not a failed one after a
read from the database (`load` fills the cache with what it read, and that `set` is not guarded):
with Redis restarting, every page and every chat socket's handshake failed with a 500, although
the session was in the database all along (tests/messaging/test_multiprocess.py). Here the filling
is best effort, as Django's save is. Deleting is not: a session logged out while Redis is away
must not come back from a Redis that kept it, so logging out fails (503) until Redis answers.
"""

import logging

from django.contrib.sessions.backends import cached_db

logger = logging.getLogger("django.contrib.sessions")


class SessionStore(cached_db.SessionStore):
    def load(self):
        try:
            data = self._cache.get(self.cache_key)
        except Exception:  # Redis away, or a key the backend refuses (Django's #17810)
            data = None
        if data is not None:
            return data
        stored = self._get_session_from_db()
        if not stored:
            return {}
        data = self.decode(stored.session_data)
        try:
            self._cache.set(self.cache_key, data, self.get_expiry_age(expiry=stored.expire_date))
        except Exception:
            logger.warning("session cache unavailable; read from the database", exc_info=True)
        return data

    async def aload(self):
        try:
            data = await self._cache.aget(await self.acache_key())
        except Exception:
            data = None
        if data is not None:
            return data
        stored = await self._aget_session_from_db()
        if not stored:
            return {}
        data = self.decode(stored.session_data)
        try:
            await self._cache.aset(await self.acache_key(), data, await self.aget_expiry_age(expiry=stored.expire_date))
        except Exception:
            logger.warning("session cache unavailable; read from the database", exc_info=True)
        return data

    def delete(self, session_key=None):
        """The cache first: if Redis is away this fails before the database row goes, so that the
        logout is refused whole (503) rather than done half, with the session left in a Redis
        that may keep it and serve it again."""
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        self._cache.delete(self.cache_key_prefix + session_key)
        super(cached_db.SessionStore, self).delete(session_key)

    async def adelete(self, session_key=None):
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        await self._cache.adelete(self.cache_key_prefix + session_key)
        await super(cached_db.SessionStore, self).adelete(session_key)

    def exists(self, session_key):
        try:
            if session_key and (self.cache_key_prefix + session_key) in self._cache:
                return True
        except Exception:
            logger.warning("session cache unavailable; asked the database", exc_info=True)
        return super(cached_db.SessionStore, self).exists(session_key)

    async def aexists(self, session_key):
        try:
            if session_key and await self._cache.ahas_key(self.cache_key_prefix + session_key):
                return True
        except Exception:
            logger.warning("session cache unavailable; asked the database", exc_info=True)
        return await super(cached_db.SessionStore, self).aexists(session_key)
