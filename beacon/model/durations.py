"""ISO 8601 durations as days: how ages and time values are stored (store/indexing) and compared (query/filters)."""

from __future__ import annotations

import re

_DURATION = re.compile(
    r"^P(?!$)(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?"
    r"(?:T(?=\d)(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$"
)


def duration_days(text: str) -> float | None:
    """Days in an ISO 8601 duration (years as 365.25 days, months as 30.4375); None if not a duration."""
    m = _DURATION.match(text)
    if not m:
        return None
    years, months, weeks, days, hours, minutes, seconds = (float(g) if g else 0.0 for g in m.groups())
    return years * 365.25 + months * 30.4375 + weeks * 7 + days + hours / 24 + minutes / 1440 + seconds / 86400
