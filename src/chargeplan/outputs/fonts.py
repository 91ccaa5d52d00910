"""The CJK font of ``report.html``: a subset of Noto Sans CJK SC embedded in the page.

A reader without a Chinese font (many Linux desktops, some locked-down Windows images) sees
Chinese names as boxes. The report therefore carries its own: exactly the Chinese characters
the page uses, cut from Noto Sans CJK SC (SIL Open Font License 1.1, which allows embedding a
subset) with fontTools, compressed as WOFF2 and inlined as a base64 ``@font-face``. A few
hundred names take some tens of kB. The font is read from the system (Debian's
``fonts-noto-cjk``) or from the file that ``CHARGEPLAN_CJK_FONT`` names; without one the page
keeps to the reader's fonts, and every Chinese name still has its Latin transliteration
beside it (:mod:`chargeplan.outputs.names`).

The figures draw Chinese site names with the same font (:func:`figure_family`): matplotlib's
default DejaVu Sans has no CJK glyph (a box and a ``Glyph ... missing`` warning per character),
so a label holding Chinese gets the family list ``[sans-serif, Noto Sans CJK SC]`` (matplotlib
falls back glyph by glyph), the font file registered with matplotlib once per process. Labels
without Chinese keep the default font, so their figures' bytes do not change.
"""

from __future__ import annotations

import base64
import io
import logging
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from chargeplan.outputs.names import CJK

log = logging.getLogger(__name__)

#: The family name the page's CSS uses for the embedded font.
FAMILY = "chargeplan CJK"

#: Where Noto Sans CJK (OFL) is found: Debian/Ubuntu, Fedora, Arch, Homebrew-style folders.
CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
    "/usr/local/share/fonts/NotoSansCJK-Regular.ttc",
)

#: The face of a collection (.ttc) to take: Simplified Chinese.
FACE = "Noto Sans CJK SC"


@dataclass(frozen=True)
class EmbeddedFont:
    """A font subset ready for CSS: its family, WOFF2 bytes, characters and licence note."""

    family: str
    woff2: bytes
    characters: str
    source: str

    @property
    def css(self) -> str:
        """The ``@font-face`` rule, the font as a ``data:`` URI (nothing to fetch)."""
        data = base64.b64encode(self.woff2).decode("ascii")
        return (
            f'@font-face {{font-family: "{self.family}"; font-style: normal; '
            f"font-weight: 400; font-display: block; "
            f'src: url("data:font/woff2;base64,{data}") format("woff2");}}'
        )


def font_file() -> Path | None:
    """The Noto Sans CJK file to subset: ``$CHARGEPLAN_CJK_FONT`` or a system copy, or None."""
    chosen = os.environ.get("CHARGEPLAN_CJK_FONT")
    for candidate in ([chosen] if chosen else []) + list(CANDIDATES):
        if Path(candidate).is_file():
            return Path(candidate)
    return None


@cache
def _registered_face() -> str | None:
    """Register :func:`font_file` with matplotlib (once per process): :data:`FACE`, or None."""
    path = font_file()
    if path is None:
        return None
    from matplotlib import font_manager

    font_manager.fontManager.addfont(str(path))
    names = {entry.name for entry in font_manager.fontManager.ttflist}
    return FACE if FACE in names else None


def figure_family(text: str) -> list[str] | None:
    """The matplotlib font family list that draws ``text``: ``None`` (the default font) for
    text without CJK characters or when no CJK font is found, else ``["sans-serif", FACE]``."""
    if not CJK.search(text):
        return None
    face = _registered_face()
    return ["sans-serif", face] if face is not None else None


def cjk_characters(text: str) -> str:
    """The distinct CJK characters of ``text``, sorted (the subset's content)."""
    return "".join(sorted(set(CJK.findall(text))))


def embedded_font(text: str, path: Path | None = None) -> EmbeddedFont | None:
    """A WOFF2 subset of the CJK font holding exactly the CJK characters of ``text``.

    Parameters
    ----------
    text
        The page (or any text): its CJK characters are kept.
    path
        The font file (default: :func:`font_file`).

    Returns
    -------
    EmbeddedFont or None
        None when ``text`` has no CJK character or no font file is found (logged).
    """
    characters = cjk_characters(text)
    if not characters:
        return None
    path = path or font_file()
    if path is None:
        log.warning(
            "report.html: no CJK font found to embed (install fonts-noto-cjk or set "
            "CHARGEPLAN_CJK_FONT); Chinese names rely on the reader's fonts"
        )
        return None
    from fontTools import subset
    from fontTools.ttLib import TTFont

    # the timestamp is kept, not set to now: the same page gives the same bytes
    with TTFont(path, fontNumber=_face_number(path), lazy=False, recalcTimestamp=False) as font:
        return EmbeddedFont(FAMILY, _subset(font, characters, subset), characters, path.name)


def _subset(font: Any, characters: str, subset: Any) -> bytes:
    """``font`` cut to ``characters``, as WOFF2 bytes (``subset``: :mod:`fontTools.subset`)."""
    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = []  # horizontal Chinese needs no shaping: half the size
    options.name_IDs = ["*"]  # keeps the copyright and OFL licence notice in the subset
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=characters)
    subsetter.subset(font)
    font.flavor = "woff2"
    buffer = io.BytesIO()
    font.save(buffer, reorderTables=False)
    return buffer.getvalue()


def _face_number(path: Path) -> int:
    """Index of :data:`FACE` in a font collection (0 for a single font)."""
    if path.suffix.lower() != ".ttc":
        return 0
    from fontTools.ttLib import TTCollection

    with TTCollection(path, lazy=True) as collection:
        for number, font in enumerate(collection.fonts):
            if font["name"].getDebugName(1) == FACE:
                return number
    return 0
