"""mapgate: stack config -> validated model -> build() -> stack outputs."""

from pathlib import Path

import pulumi

from mapgate.config import ConfigError, engine_config, parse_config, project_keys
from mapgate.stack import build

try:
    every_key = engine_config()
    config = parse_config(
        project_keys(every_key), stack=pulumi.get_stack(), project_dir=Path(__file__).parent, other_keys=every_key
    )
    outputs = build(config, pulumi.get_stack())
except ConfigError as error:
    # RunError ends the program with just the message: no traceback, nothing registered.
    raise pulumi.RunError(str(error)) from None

outputs.export()
