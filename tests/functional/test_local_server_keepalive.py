"""The local server answers requests on a kept-alive connection without Nagle's delay: each
response leaves at once, not after the client's delayed ACK (about 40 ms on Linux)."""

from __future__ import annotations

import http.client
import statistics
import time
from urllib.parse import urlsplit


def test_responses_on_a_kept_alive_connection_are_not_held_back(api_url: str) -> None:
    where = urlsplit(api_url)
    conn = http.client.HTTPConnection(where.hostname, where.port, timeout=10)
    seconds = []
    for _ in range(12):
        started = time.perf_counter()
        conn.request("GET", "/v1/trends")  # no key: the authorizer's 401, quick to answer
        response = conn.getresponse()
        response.read()
        seconds.append(time.perf_counter() - started)
        assert response.status == 401
        assert not response.will_close
    conn.close()
    assert statistics.median(seconds[2:]) < 0.025, seconds
