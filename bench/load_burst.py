"""Bounded bursts of parallel requests against a running stack on loopback; prints what came back and the errors.

    make run                      # or: docker compose up
    .venv/bin/python bench/load_burst.py                       # 50 at once, 5 bursts, against demo.localhost:8000
    BURST_HOST=demo.localhost BURST_ADDRESS=127.0.0.1 BURST_PORT=8000 BURST_SIZE=50 BURST_ROUNDS=5 \\
        .venv/bin/python bench/load_burst.py

Each burst opens BURST_SIZE connections at the same moment (a barrier) and asks for each path in BURST_PATHS
(the sign-in page, the public landing page and a hosted link that does not exist). Only loopback is allowed: the
script refuses any other address. It prints, per path, the count of each status, the connection errors and the
5xx answers (what "exhausted Postgres connections" looks like from outside: 500s or refused connections), and exits
non-zero when any request failed that way. Note that hosted-link misses are rate-limited per address (429 after
30 in ten minutes): those are counted as refusals, not errors.
"""

import collections
import http.client
import ipaddress
import os
import socket
import sys
import threading
import time

HOST = os.environ.get("BURST_HOST", "demo.localhost")  # the Host header (names the tenant)
ADDRESS = os.environ.get("BURST_ADDRESS", "127.0.0.1")  # where the connections go: loopback only
PORT = int(os.environ.get("BURST_PORT", 8000))
SIZE = min(int(os.environ.get("BURST_SIZE", 50)), 200)
ROUNDS = min(int(os.environ.get("BURST_ROUNDS", 5)), 20)
PATHS = os.environ.get("BURST_PATHS", "/login/,/billing/i/not-a-token/").split(",")
TIMEOUT = float(os.environ.get("BURST_TIMEOUT", 30))


def _loopback_only(address: str) -> str:
    if not ipaddress.ip_address(socket.gethostbyname(address)).is_loopback:
        sys.exit(f"{address} is not a loopback address: this script only sends bursts to loopback.")
    return address


def _one(address: str, path: str, barrier: threading.Barrier, results: list) -> None:
    barrier.wait()
    started = time.perf_counter()
    try:
        conn = http.client.HTTPConnection(address, PORT, timeout=TIMEOUT)
        conn.request("GET", path, headers={"Host": f"{HOST}:{PORT}"})
        response = conn.getresponse()
        response.read()
        results.append((str(response.status), time.perf_counter() - started))
        conn.close()
    except OSError as exc:
        results.append((f"error:{type(exc).__name__}", time.perf_counter() - started))


def main() -> int:
    address = _loopback_only(ADDRESS)
    failed = 0
    for path in PATHS:
        counts: collections.Counter = collections.Counter()
        slowest = 0.0
        for _round in range(ROUNDS):
            results: list = []
            barrier = threading.Barrier(SIZE)
            threads = [threading.Thread(target=_one, args=(address, path, barrier, results)) for _ in range(SIZE)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            counts.update(status for status, _t in results)
            slowest = max([slowest, *(t for _s, t in results)])
        errors = sum(n for status, n in counts.items() if status.startswith("error") or status.startswith("5"))
        failed += errors
        summary = ", ".join(f"{status}: {n}" for status, n in sorted(counts.items()))
        print(f"{path}: {SIZE} parallel x {ROUNDS} bursts -> {summary}; errors {errors}; slowest {slowest:.2f}s")
    print(f"total errors (5xx or connection failures): {failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
