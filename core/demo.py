"""Demo data for `manage.py seed_demo`. Each app registers a seeder from its AppConfig.ready();
seeders run in `order` and must be idempotent, so `make run` can seed on every start."""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Seeder:
    name: str
    seed: Callable[[], list[str]]
    order: int


_seeders: dict[str, Seeder] = {}


def register(name: str, seed: Callable[[], list[str]], *, order: int) -> None:
    """`seed()` returns lines to print (logins, counts) once it has done its work."""
    _seeders[name] = Seeder(name=name, seed=seed, order=order)


def seeders() -> list[Seeder]:
    return sorted(_seeders.values(), key=lambda seeder: seeder.order)
