"""mapgate: Fargate services found through AWS Cloud Map, published by an API Gateway HTTP API over a VPC link.

Data flows one way: stack config → `mapgate.config` (validated, pure data) → `mapgate.stack.build()` → one
ComponentResource per concept (`mapgate.components`) → stack outputs.
"""

from importlib import metadata

# The Pulumi project name: the config namespace (`mapgate:…`) and the first part of every component type token.
PROJECT = "mapgate"

try:
    __version__ = metadata.version(PROJECT)
except metadata.PackageNotFoundError:  # run from a checkout that was never installed
    __version__ = "0+unknown"
