"""`mapgate import copilot`: an AWS Copilot workspace as mapgate stacks, with a report of every manifest key.

See docs/copilot-import.md for the mapping and why each choice was made.
"""

from mapgate.importers.copilot.errors import CopilotInputError
from mapgate.importers.copilot.importer import ImportRequest, ImportResult, run, write

__all__ = ["CopilotInputError", "ImportRequest", "ImportResult", "run", "write"]
