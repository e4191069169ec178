"""When a failed delivery or email is tried again, and when it is given up.

Attempt n fails -> the next one waits BASE * 2**(n-1), capped at CAP, plus up to JITTER of that on top (so workers
that failed together do not all come back in the same second). The jitter only adds, so the window below is a
lower bound:

    30 s, 1 min, 2 min, 4 min, 8 min, 16 min, 32 min, 1 h 4 min, 2 h 8 min, 4 h 16 min, then 6 h for each further
    attempt. MAX_ATTEMPTS = 24 attempts span at least 23 waits: 8.5 h + 13 x 6 h = 86.5 h, about 3.6 days
    (at most 4.5 days with the jitter).

So an accounting system or SMTP server that is down over a long weekend still gets everything afterwards; only
then is a delivery marked failed, shown on the admin page and in the admins' daily digest.
"""

import random
from datetime import timedelta

BASE = timedelta(seconds=30)
CAP = timedelta(hours=6)
JITTER = 0.25
MAX_ATTEMPTS = 24
# At least this long between the first attempt and giving up (a test holds the schedule to it).
MIN_WINDOW = timedelta(days=3)


def retry_delay_floor(attempts: int) -> timedelta:
    """The wait after the attempts-th failed attempt, without jitter."""
    exponent = min(max(attempts - 1, 0), 20)  # 2**20 x 30 s is far past the cap; keeps the number small
    return min(BASE * 2**exponent, CAP)


def retry_delay(attempts: int) -> timedelta:
    """The wait after the attempts-th failed attempt, with jitter."""
    floor = retry_delay_floor(attempts)
    return floor + floor * (JITTER * random.random())  # noqa: S311 - spreading retries, not a secret


def retry_window() -> timedelta:
    """The shortest time from the first attempt to the last one."""
    return sum((retry_delay_floor(n) for n in range(1, MAX_ATTEMPTS)), timedelta())
