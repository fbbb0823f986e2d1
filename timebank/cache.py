"""Django's Redis cache with one ``redis.Redis`` client per connection pool.

Django's ``RedisCacheClient`` builds a new ``redis.Redis(connection_pool=…)`` for every cache
call, and redis-py (8.1) builds its ~165-entry table of response callbacks in each one
(redis/redis-py#3624, fix pending in #4124): about a fifth of a millisecond per call, six
calls on the order hall. A ``redis.Redis`` over a pool is safe to share between threads
(redis-py's documentation), so each pool's client is made once and reused.
"""

from __future__ import annotations

import threading

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class SharedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}
        self._lock = threading.Lock()

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            with self._lock:
                client = self._clients.get(index)
                if client is None:
                    pool = self._pool_at(index)
                    client = self._clients[index] = self._client(connection_pool=pool)
        return client

    def _pool_at(self, index: int):
        if index not in self._pools:
            self._pools[index] = self._pool_class.from_url(
                self._servers[index], **self._pool_options
            )
        return self._pools[index]


class SharedClientRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = SharedClientRedisCacheClient
