"""Dates as templates show them to a rep (12月16日 周三 / Wed 16 Dec): the parts a template
needs, so every list of follow-ups (the log proposal, /today, the customer card) says a day
the same way."""

from __future__ import annotations

from datetime import date

from coach.holidays import is_day_off
from coach.views import DateView


def date_view(day: date | None, today: date) -> DateView | None:
    """A date as templates show it to a rep: 12月16日 周三 / Wed 16 Dec, with the year
    when it is not this one (12月5日 typed on 7 December means next year's), and whether
    it falls on a weekend or a public holiday's day off (`weekend`: a gentle hint, most
    doctors are away then)."""
    if day is None:
        return None
    return {"iso": day.isoformat(), "month": day.month, "day": day.day,
            "weekday": day.weekday(), "year": day.year, "other_year": day.year != today.year,
            "weekend": is_day_off(day)}
