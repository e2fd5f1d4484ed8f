"""Text the product did not write itself (an error a partner answered, a driver's message)
made storable before it is kept: PostgreSQL refuses NUL, and UTF-8 cannot carry a lone
surrogate. Such text is never refused, since no retry could make it storable; what cannot be
kept is shown as U+FFFD."""

from __future__ import annotations

import re

# Control characters other than tab and newline, and lone surrogates.
_UNSTORABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def storable(text: str) -> str:
    return _UNSTORABLE.sub(REPLACEMENT, text)
