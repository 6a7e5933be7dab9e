"""English console text → (Finnish, Swedish). Filled in by hand; see bot/console/words.py."""

from __future__ import annotations

WORDS: dict[str, tuple[str, str]] = {
}
