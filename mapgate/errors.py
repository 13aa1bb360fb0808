"""What can go wrong when a stack is driven, as exceptions that carry the CLI's exit code.

One table for both ends: `mapgate.automation` raises these, the CLI prints `error: <message>` and exits with
`exit_code`. The README's exit-code table and every command's `--help` are written from EXIT_MEANINGS.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_NO_CLI = 3
EXIT_NOT_LOGGED_IN = 4
EXIT_NO_AWS_CREDENTIALS = 5
EXIT_CONCURRENT_UPDATE = 6
EXIT_REFUSED = 7
EXIT_INVALID_CONFIG = 8
EXIT_NO_BUILDER = 9
EXIT_UNHEALTHY = 10
EXIT_AWS_DENIED = 11
EXIT_CANCELLED = 130

EXIT_MEANINGS = {
    EXIT_OK: "done",
    EXIT_FAILED: "Pulumi failed, or `call` got no answer from the API (the message follows)",
    EXIT_USAGE: (
        "bad arguments: an unknown option or stack, no mapgate project here (use --project-dir), a bad KEY=VALUE, "
        "an --out that cannot be written"
    ),
    EXIT_NO_CLI: "the Pulumi CLI is not installed (the message says how to install it)",
    EXIT_NOT_LOGGED_IN: "not logged in to a backend (`pulumi login --local`, or `pulumi login`)",
    EXIT_NO_AWS_CREDENTIALS: "no usable AWS credentials",
    EXIT_CONCURRENT_UPDATE: "another update of the stack is in progress (`pulumi cancel` if it died)",
    EXIT_REFUSED: (
        "`up`/`destroy` refused: no `--yes` and no terminal, the answer was not yes (destroy: the name), "
        "or (scripts) `up` would replace resources it was not allowed to"
    ),
    EXIT_INVALID_CONFIG: (
        "the stack file is not valid YAML, or (`plan`) the config has problems; nothing was created. `import`: the "
        "workspace is bad input; nothing was written"
    ),
    EXIT_NO_BUILDER: (
        "`up`/`preview`: Docker is missing, not running, or its builder cannot build a platform the stack needs"
    ),
    EXIT_UNHEALTHY: "`status`: something is wrong in the stack (each problem is listed)",
    EXIT_AWS_DENIED: "`status`/`logs`: AWS denied a call; the message names the IAM action to grant",
    EXIT_CANCELLED: "cancelled with Ctrl-C; Pulumi stops after the steps in flight",
}


class MapgateError(Exception):
    """A failure the user can act on; the message says how. `exit_code` is what the CLI exits with."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, exit_code: int | None = None):
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class Failed(MapgateError):
    """Pulumi failed (the engine's message follows), or the API gave no answer."""

    exit_code = EXIT_FAILED


class UsageError(MapgateError):
    """Bad arguments: an unknown stack or service, a malformed KEY=VALUE, a request no route matches."""

    exit_code = EXIT_USAGE


class NoPulumiCli(MapgateError):
    exit_code = EXIT_NO_CLI


class NotLoggedIn(MapgateError):
    exit_code = EXIT_NOT_LOGGED_IN


class NoAwsCredentials(MapgateError):
    exit_code = EXIT_NO_AWS_CREDENTIALS


class ConcurrentUpdate(MapgateError):
    exit_code = EXIT_CONCURRENT_UPDATE


class Refused(MapgateError):
    """Not done because nobody said yes: no terminal to ask, a "no", or replacements that were not allowed."""

    exit_code = EXIT_REFUSED


class InvalidConfig(MapgateError):
    exit_code = EXIT_INVALID_CONFIG


class NoBuilder(MapgateError):
    exit_code = EXIT_NO_BUILDER


class Unhealthy(MapgateError):
    exit_code = EXIT_UNHEALTHY
