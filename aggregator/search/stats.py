"""How much the archive holds: messages per account, per sphere, per year (local time)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from aggregator.archive import Archive
from aggregator.archive.ids import datetime_ms, id_floor, id_to_ms
from aggregator.archive.queries import ArchiveQueries


@dataclass(frozen=True, slots=True)
class ArchiveStats:
    total: int
    per_account: tuple[tuple[str, int], ...]
    per_sphere: tuple[tuple[str, int], ...]
    per_year: tuple[tuple[int, int], ...]


def _year_start(year: int, tz: tzinfo | None) -> datetime:
    naive = datetime(year, 1, 1)
    return naive.astimezone() if tz is None else naive.replace(tzinfo=tz)


def archive_stats(archive: Archive, tz: tzinfo | None = None) -> ArchiveStats:
    """Counts by account and sphere (an account missing from the table counts as "unknown"), and by
    year of the message time in ``tz`` (default: local), from id ranges (ids are time-ordered)."""
    queries = ArchiveQueries(archive)
    per_account = queries.counts_per_account()
    spheres = {a.id: a.sphere for a in queries.accounts()}
    per_sphere: dict[str, int] = {}
    for account, n in per_account:
        sphere = spheres.get(account, "unknown")
        per_sphere[sphere] = per_sphere.get(sphere, 0) + n
    per_year: list[tuple[int, int]] = []
    ids = queries.id_range()
    if ids is not None:
        lo, hi = ids
        first = datetime.fromtimestamp(id_to_ms(lo) / 1000, tz).astimezone(tz).year
        last = datetime.fromtimestamp(id_to_ms(hi) / 1000, tz).astimezone(tz).year
        for year in range(first, last + 1):
            start = id_floor(max(datetime_ms(_year_start(year, tz)), 0))
            end = id_floor(max(datetime_ms(_year_start(year + 1, tz)), 0))
            n = queries.count_in_id_range(start, end)
            if n:
                per_year.append((year, int(n)))
    return ArchiveStats(
        total=sum(n for _, n in per_account),
        per_account=tuple(per_account),
        per_sphere=tuple(sorted(per_sphere.items())),
        per_year=tuple(per_year),
    )
