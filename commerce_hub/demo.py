"""The demo tenant. Each app registers a seeder that fills its part; seed_demo runs them in order."""

from collections.abc import Callable
from dataclasses import dataclass

DEMO_SUBDOMAIN = "demo"
DEMO_COMPANY = "Noorderlicht Software B.V."
DEMO_USERS = [
    # email, name, role, language
    ("admin@noorderlicht.example", "Sanne de Vries", "admin", "en"),
    ("sales@noorderlicht.example", "Lars Haugen", "sales", "nb"),
    ("finance@noorderlicht.example", "Pieter Bakker", "finance", "nl"),
    ("viewer@noorderlicht.example", "Ingrid Solberg", "read_only", "nb"),
]
DEMO_PASSWORD = "demo-password-2026"


@dataclass(frozen=True)
class SeedContext:
    scale: int  # 0: a realistic small data set; N > 0: N of each record, for benchmarks
    progress: bool
    stdout: Callable[[str], None]


_seeders: list[tuple[int, str, Callable[[SeedContext], None], bool]] = []


def register_seeder(name: str, fn: Callable[[SeedContext], None], *, order: int, after_commit: bool = False) -> None:
    """`after_commit` seeders run once the tenant and the other seeders' data are committed, outside any
    transaction: those that go through a payment processor, which is never called inside one."""
    if not any(existing == name for _o, existing, _fn, _after in _seeders):
        _seeders.append((order, name, fn, after_commit))


def seeders(*, after_commit: bool = False) -> list[tuple[str, Callable[[SeedContext], None]]]:
    chosen = [s for s in _seeders if s[3] == after_commit]
    return [(name, fn) for _order, name, fn, _after in sorted(chosen, key=lambda s: s[0])]
