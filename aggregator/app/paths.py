"""The profile's directories, for a front end that must find its files before the core is imported
(``ui.instant`` paints the last buddy list from a snapshot first). Only ``aggregator.paths``
(platformdirs) is imported: no archive, no SQLAlchemy, no protocols."""

from __future__ import annotations

from aggregator.paths import HOME_ENV, ProfilePaths

__all__ = ["HOME_ENV", "ProfilePaths"]
