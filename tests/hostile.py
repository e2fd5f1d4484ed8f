"""Input a hostile or broken client sends, as Hypothesis strategies: text with NUL, other
control characters or lone surrogates, 10 kB strings, and numbers no column holds (2**31, -1,
1e309, NaN written as JSON text, true and false where an integer goes).

Every value comes wrapped in :class:`Drawn`, which says whether the design calls it bad input
(422), so that a rule knows what to expect without re-deriving it. JSON bodies are written by
:func:`json_body`, which puts :class:`JsonText` values into the body as they are: that is the
only way to send ``NaN`` or ``1e309``, which no JSON library writes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

# The 10 kB string of the issue: longer than any text field the API takes.
OVERSIZED = "x" * 10_240
# C0 and C1 control characters the design refuses everywhere (tab and newline are allowed in
# free text), and lone surrogates, which UTF-8 cannot encode and PostgreSQL cannot store.
BAD_CHARACTERS = ["\x00", "\x01", "\x07", "\x08", "\x0b", "\x0c", "\x1b", "\x7f", "\x85", "\x9f"]
LONE_SURROGATES = ["\ud800", "\udbff", "\udc00", "\udfff"]
# Free text may carry these; a one-line field (a step, a location) may not.
LINE_BREAKS = ["\t", "\n"]


class JsonText(str):
    """A value that goes into a JSON body as it is written here: ``NaN``, ``1e309``."""


@dataclass(frozen=True)
class Drawn:
    """One drawn value and whether it is bad input; shown by its value in failure reports."""

    value: Any
    hostile: bool = False

    def __repr__(self) -> str:
        shown = f"{self.value[:20]!r}...({len(self.value)} chars)" if _long(self.value) else ""
        return f"{'hostile' if self.hostile else 'clean'}({shown or repr(self.value)})"


def _long(value: Any) -> bool:
    return isinstance(value, str) and len(value) > 40


# Hostile integers: too large for PostgreSQL's integer, negative, infinite, not a number, or a
# boolean where an integer goes.
HOSTILE_INTEGERS: list[Any] = [
    2**31,
    2**63,
    -1,
    JsonText("1e309"),
    JsonText("NaN"),
    JsonText("-Infinity"),
    True,
    False,
]

_PRINTABLE = st.characters(exclude_categories=("Cc", "Cs"))


def clean_text(*, max_size: int, free: bool = True, min_size: int = 1) -> st.SearchStrategy[Drawn]:
    """Text the API must take: any printable character, Chinese and emoji included, and tab
    and newline in ``free`` text."""
    alphabet = st.one_of(_PRINTABLE, st.sampled_from(LINE_BREAKS)) if free else _PRINTABLE
    return st.text(alphabet, min_size=min_size, max_size=max_size).map(Drawn)


def hostile_text(*, free: bool = True) -> st.SearchStrategy[Drawn]:
    """Text the API must refuse with 422: a bad character somewhere in clean text, a line break
    in a one-line field, or 10 kB."""
    bad = st.sampled_from(BAD_CHARACTERS + LONE_SURROGATES + ([] if free else LINE_BREAKS))
    around = st.text(_PRINTABLE, max_size=8)
    spliced = st.builds(lambda head, char, tail: head + char + tail, around, bad, around)
    return st.one_of(spliced, st.just(OVERSIZED)).map(lambda value: Drawn(value, hostile=True))


def text(
    *, max_size: int, free: bool = True, min_size: int = 1, hostile_share: int = 4
) -> st.SearchStrategy[Drawn]:
    """Mostly clean text, hostile about one time in ``hostile_share``."""
    clean = clean_text(max_size=max_size, free=free, min_size=min_size)
    return st.one_of(*([clean] * (hostile_share - 1)), hostile_text(free=free))


def count(clean: st.SearchStrategy[int]) -> st.SearchStrategy[Drawn]:
    """A unit count: mostly from ``clean``, now and then one no integer column holds."""
    hostile = st.sampled_from(HOSTILE_INTEGERS).map(lambda value: Drawn(value, hostile=True))
    return st.one_of(clean.map(Drawn), clean.map(Drawn), hostile)


def json_body(value: Any) -> bytes:
    """``value`` as JSON text; strings escaped to ASCII (so a lone surrogate travels as
    ``\\ud800``, which a JSON parser reads back as that surrogate), :class:`JsonText` as is."""
    return _encode(value).encode("ascii")


def _encode(value: Any) -> str:
    if isinstance(value, JsonText):
        return str(value)
    if isinstance(value, Drawn):
        return _encode(value.value)
    if isinstance(value, dict):
        members = (f"{json.dumps(str(key))}:{_encode(item)}" for key, item in value.items())
        return "{" + ",".join(members) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_encode(item) for item in value) + "]"
    return json.dumps(value, ensure_ascii=True)


def any_hostile(*values: Any) -> bool:
    """Whether any of the drawn values is bad input."""
    return any(isinstance(value, Drawn) and value.hostile for value in values)
