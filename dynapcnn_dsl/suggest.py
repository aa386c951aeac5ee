"""Did-you-mean suggestions for misspelled keys, names and choices."""

from __future__ import annotations

from collections.abc import Iterable


def closest(word: str, candidates: Iterable[str], *, n: int = 1, cutoff: float = 0.6) -> list[str]:
    """The candidates closest to `word`, best first (case-insensitive)."""
    import difflib  # only when something is misspelled: keeps start-up lean

    pool = list(candidates)
    lowered = {c.lower(): c for c in pool}
    hits = difflib.get_close_matches(word.lower(), list(lowered), n=n, cutoff=cutoff)
    return [lowered[h] for h in hits]


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """'did you mean 'x'?' or None when nothing is close enough to be a likely typo."""
    hits = closest(word, candidates)
    return f"did you mean '{hits[0]}'?" if hits else None

