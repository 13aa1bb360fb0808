"""mapgate: stack config -> validated model -> build() -> stack outputs."""

from pathlib import Path

import pulumi

from mapgate.config import ConfigError, parse_config, raw_from_pulumi
from mapgate.stack import build

try:
    config = parse_config(raw_from_pulumi(), stack=pulumi.get_stack(), project_dir=Path(__file__).parent)
    outputs = build(config, pulumi.get_stack())
except ConfigError as error:
    # RunError ends the program with just the message: no traceback, nothing registered.
    raise pulumi.RunError(str(error)) from None

outputs.export()
