"""Capped exponential backoff with jitter (each wait is uniform in [ceiling/2, ceiling])."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    initial: float = 1.0
    cap: float = 60.0
    factor: float = 2.0
    rng: random.Random = field(default_factory=random.Random)
    attempts: int = 0

    def next_delay(self) -> float:
        """The wait before the next attempt: uniform in [ceiling/2, ceiling], ceiling capped."""
        ceiling = min(self.cap, self.initial * (self.factor**self.attempts))
        self.attempts += 1
        return ceiling / 2 + self.rng.random() * ceiling / 2

    def reset(self) -> None:
        self.attempts = 0
