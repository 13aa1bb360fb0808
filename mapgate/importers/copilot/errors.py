"""The one error an import stops on: bad input, reported as one line, with nothing written."""

from __future__ import annotations

from pathlib import Path


class CopilotInputError(Exception):
    """Input the importer cannot read as Copilot would: `file:line:column: what is wrong`."""

    def __init__(
        self, message: str, file: Path | str | None = None, line: int | None = None, column: int | None = None
    ):
        where = str(file) if file is not None else ""
        if where and line is not None:
            where += f":{line}:{column if column is not None else 1}"
        super().__init__(f"{where}: {message}" if where else message)
