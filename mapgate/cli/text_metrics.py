"""How wide the picture's text is: the room a box needs, whichever font draws it.

The PNG is drawn with Pillow's built-in font (Aileron). The SVG names Aileron first, but a viewer without it
falls back to another sans-serif: Helvetica or Arial (narrower than Aileron), or, on most Linux desktops and in
librsvg's rsvg-convert, DejaVu Sans, the widest of the common fallbacks (about 14 % wider than Aileron). librsvg
ignores `textLength`, so the text cannot be fitted by the renderer: boxes get the room of the wider of the two.

DejaVu Sans's advance widths are kept here (in font units, 2048 to the em; tests/test_diagram.py checks them
against the real font file), so measuring needs no font installed.
"""

from __future__ import annotations

import functools

from PIL import ImageFont

DEJAVU_UNITS_PER_EM = 2048
# advance width -> the characters that have it, for every character the picture uses
_DEJAVU_SANS = {
    563: "'",
    569: "ijl",
    604: "IJ",
    651: " ,.·",
    690: "/:;\\|",
    721: "f",
    739: "-",
    799: "()[]",
    803: "t",
    821: "!",
    842: "r",
    942: '"',
    1024: "*_`–",
    1067: "s",
    1075: "z",
    1087: "?",
    1126: "c",
    1141: "L",
    1178: "F",
    1186: "k",
    1212: "vxy",
    1235: "P",
    1251: "TY",
    1253: "o",
    1255: "a",
    1260: "e",
    1294: "E",
    1298: "hnu",
    1300: "Sbdgpq",
    1303: "$0123456789{}",
    1343: "K",
    1401: "AV",
    1403: "XZ",
    1405: "B",
    1423: "R",
    1430: "C",
    1499: "U",
    1532: "N",
    1540: "H",
    1577: "D",
    1587: "G",
    1597: "&",
    1612: "OQ",
    1675: "w",
    1716: "#+<=>^~×",
    1767: "M",
    1946: "%",
    1995: "m",
    2025: "W",
    2048: "@—…",
}
DEJAVU_SANS_ADVANCE: dict[str, int] = {char: width for width, chars in _DEJAVU_SANS.items() for char in chars}
"""DejaVu Sans (Book) advance widths, in font units."""


@functools.cache
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's built-in font at `size` px: what the PNG is drawn with."""
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has only the bitmap font
        return ImageFont.load_default()


def fallback_width(text: str, size: int) -> float:
    """The width of `text` in DejaVu Sans at `size` px, without kerning (which only narrows it); a character
    outside the table counts as a full em."""
    units = sum(DEJAVU_SANS_ADVANCE.get(char, DEJAVU_UNITS_PER_EM) for char in text)
    return units * size / DEJAVU_UNITS_PER_EM


def text_width(text: str, size: int) -> float:
    """The room `text` needs at `size` px: drawn in Aileron (the PNG) or in the widest common fallback (an SVG
    viewer without Aileron)."""
    return max(float(font(size).getlength(text)), fallback_width(text, size))
