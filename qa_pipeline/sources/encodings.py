"""Bytes of unknown or mis-declared encoding as text: mail bodies, manifests, exports."""

from __future__ import annotations

import charset_normalizer
from charset_normalizer.md import mess_ratio

# Above this share of implausible characters (charset-normalizer's measure), a decoding is
# mojibake: "dÄ›kuji" for "děkuji", "òÄÒÁ×" for "Здра".
MESS_LIMIT = 0.1


def decode_bytes(payload: bytes, declared: str | None = None) -> tuple[str, str | None]:
    """The text of a mail body or a file, and a note when its declared charset was wrong.

    Valid UTF-8 is UTF-8 whatever the header says (no legacy text forms valid multi-byte
    UTF-8 by chance); otherwise the declared charset is kept when its text reads plausibly,
    else charset-normalizer's best guess is taken.
    """
    declared = (declared or "").lower() or None
    try:
        text = payload.decode("utf-8-sig")  # a byte-order mark is no text
    except UnicodeDecodeError:
        pass
    else:
        lied = declared not in (None, "utf-8", "utf8", "us-ascii", "ascii") and not payload.isascii()
        return text, f"declared charset {declared}, but the body is UTF-8; read as UTF-8" if lied else None
    claimed: str | None
    try:
        claimed = payload.decode(declared) if declared else None
    except (LookupError, UnicodeDecodeError):
        claimed = None
    if claimed is not None and mess_ratio(claimed) < MESS_LIMIT:
        return claimed, None
    best = charset_normalizer.from_bytes(payload).best()
    if best is None:
        return claimed if claimed is not None else payload.decode("latin-1"), None
    return str(best), f"declared charset {declared or 'none'} does not fit the body; read as {best.encoding}"
