"""What a person reads from a markdown string the pages hand to Streamlit:
the text without the backslashes ``ui.literal`` put before punctuation and
without its invisible word joiners."""

from __future__ import annotations

import re

_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")


def as_read(markdown: str) -> str:
    """``markdown`` as it reads on screen once its escapes are drawn."""
    return _ESCAPE.sub(r"\1", str(markdown)).replace("\u2060", "")
