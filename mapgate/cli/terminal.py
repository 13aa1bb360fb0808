"""Text for a person at a terminal: fitted to its width, in the characters its encoding has, red only on a tty."""

from __future__ import annotations

import codecs
import os
import re
import shutil
import textwrap
from dataclasses import dataclass
from typing import TextIO

# What the tree, the cost table and the messages use beyond ASCII, and what stands in for it elsewhere.
ASCII = str.maketrans(
    {
        "├": "|",
        "└": "`",
        "│": "|",
        "─": "-",
        "·": "-",
        "—": "-",
        "→": ">",
        "×": "x",
        "…": "...",
        "≤": "<=",
        "≥": ">=",
        "≠": "!=",
    }
)
_TREE_PREFIX = re.compile(r"^[│├└─|`\- ]*")
MIN_WIDTH = 20  # narrower than this, wrapping makes things worse


def plural(count: int | float, word: str, many: str | None = None) -> str:
    """'1 task', '2 tasks', '3 retries' (with many='retries')."""
    return f"{count:g} {word if count == 1 else (many or word + 's')}"


def speaks_unicode(stream: TextIO) -> bool:
    encoding = getattr(stream, "encoding", None)
    if encoding is None:  # an in-memory stream holds text, not bytes
        return True
    try:
        "├─│└·—→×".encode(codecs.lookup(encoding).name)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


@dataclass(frozen=True)
class Terminal:
    """How to write to one stream. `width` is None when it is not a terminal: files and pipes get whole lines."""

    width: int | None = None
    unicode: bool = True
    color: bool = False

    @classmethod
    def of(cls, stream: TextIO) -> Terminal:
        tty = stream.isatty()
        return cls(
            width=shutil.get_terminal_size().columns if tty else None,
            unicode=speaks_unicode(stream),
            # https://no-color.org: any value of NO_COLOR turns colour off.
            color=tty and "NO_COLOR" not in os.environ,
        )

    def fit(self, text: str) -> str:
        if not self.unicode:
            # Whatever has no stand-in (a user's own text) becomes '?', rather than a UnicodeEncodeError.
            text = text.translate(ASCII).encode("ascii", "replace").decode("ascii")
        if self.width is None:
            return text
        width = max(self.width, MIN_WIDTH)
        return "\n".join(part for line in text.split("\n") for part in wrap(line, width))

    def red(self, text: str) -> str:
        return f"\x1b[31m{text}\x1b[0m" if self.color else text

    def write(self, stream: TextIO, text: str) -> None:
        stream.write(self.fit(text) + "\n")
        stream.flush()


def wrap(line: str, width: int) -> list[str]:
    """One line in pieces of at most `width`; a tree line continues under its own branch, indented."""
    if len(line) <= width:
        return [line]
    prefix = _TREE_PREFIX.match(line)
    lead = prefix.group() if prefix else ""
    continuation = lead.replace("├─", "│ ").replace("└─", "  ").replace("|-", "| ").replace("`-", "  ") + "    "
    if len(continuation) > width // 2:
        continuation = ""
    return textwrap.wrap(
        line,
        width,
        subsequent_indent=continuation,
        break_long_words=True,
        break_on_hyphens=False,
        replace_whitespace=False,
    ) or [line[:width]]
