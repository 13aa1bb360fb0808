"""Strings in a manifest: Copilot's `${VAR}` interpolation, and the service names a variable dials.

Copilot replaces `${VAR}` in a manifest with the shell variable of the `copilot deploy` that read it, and sets
`COPILOT_APPLICATION_NAME` and `COPILOT_ENVIRONMENT_NAME` itself. The importer resolves those two always, and any
other variable the importing shell has; the rest stays as written and is reported.

Names: Copilot registers each service with a port as `<svc>.<env>.<app>.local`; mapgate's namespace for an
imported stack is `<env>.<app>.internal` (mapgate rejects `.local`, which RFC 6762 reserves for multicast DNS:
a laptop on a VPN sends those names to mDNS, not to Route 53). So the names keep their shape and only the suffix
changes: variables are rewritten, and `COPILOT_SERVICE_DISCOVERY_ENDPOINT` points at the new namespace, so code
that builds `<svc>.${COPILOT_SERVICE_DISCOVERY_ENDPOINT}` keeps working unchanged.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from mapgate import naming

_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
COPILOT_VARIABLES = ("COPILOT_APPLICATION_NAME", "COPILOT_ENVIRONMENT_NAME")


SERVICE_SUFFIX = "-svc"


def service_name(copilot_name: str) -> str:
    """The mapgate service name: Copilot's, unless it is one of mapgate's own components (`api`, `network`…),
    which gets `-svc` appended; a name must not collide with a component's resources."""
    name = re.sub(r"[^a-z0-9-]", "-", copilot_name.lower()).strip("-") or "service"
    return name + SERVICE_SUFFIX if naming.reserved_service_name(name) else name


def namespace_for(app: str, env: str) -> str:
    """The imported stack's private DNS namespace: Copilot's `<env>.<app>.local` with mapgate's suffix."""
    return ".".join(_label(part) for part in (env, app)) + ".internal"


def _label(text: str) -> str:
    """A DNS label from a Copilot name: lower case, anything else than a-z, 0-9 and '-' as '-'."""
    return re.sub(r"[^a-z0-9-]", "-", text.lower()).strip("-")[:63] or "x"


@dataclass
class Interpolation:
    app: str
    env: str
    shell: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))

    def resolve(self, text: str) -> tuple[str, list[str], list[str]]:
        """`text` with the variables it can resolve; (result, resolved from the shell, kept as written)."""
        from_shell: list[str] = []
        kept: list[str] = []

        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name == "COPILOT_APPLICATION_NAME":
                return self.app
            if name == "COPILOT_ENVIRONMENT_NAME":
                return self.env
            if name in self.shell:
                from_shell.append(name)
                return self.shell[name]
            kept.append(name)
            return match.group(0)

        return _VARIABLE.sub(one, text), from_shell, kept


def rewrite_names(
    text: str, *, app: str, env: str, namespace: str, listening: Mapping[str, str]
) -> tuple[str, list[str]]:
    """Cloud Map and Service Connect names in `text` turned into mapgate names; returns (text, what changed).

    `listening`: Copilot name -> mapgate name of each service with a port."""
    changes: list[str] = []
    copilot_ns = re.escape(f"{env}.{app}.local")

    def full(match: re.Match[str]) -> str:
        service = match.group(1)[:-1] if match.group(1) else ""
        new = f"{listening.get(service, service)}.{namespace}" if service else namespace
        changes.append(f"{match.group(0)} → {new}")
        return new

    text = re.sub(rf"(?i)\b((?:[a-z0-9-]+\.)?){copilot_ns}\b", full, text)
    if listening:
        names = "|".join(re.escape(n) for n in sorted(listening, key=len, reverse=True))

        def short(match: re.Match[str]) -> str:
            scheme, name, rest = match.group(1), match.group(2), match.group(3)
            new = f"{scheme}{listening[name]}.{namespace}{rest}"
            changes.append(f"{match.group(0)} → {new} (Service Connect short name)")
            return new

        text = re.sub(rf"([a-z][a-z0-9+.-]*://(?:[^@/\s]*@)?)({names})((?::\d+)?(?=[/\s\"']|$))", short, text)
    return text, changes


# What a variable can say about the HTTP API's limits (30 s per request, 10 MB payloads, no WebSockets on an
# HTTP API): https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html
_WEBSOCKET = re.compile(r"(?i)\bwss?://|websocket|socket\.io")
_TIMEOUT_NAME = re.compile(r"(?i)timeout")
_SIZE_NAME = re.compile(r"(?i)(body|upload|payload|request).*(size|limit|max)|max.*(body|upload|payload)")
_SECONDS = re.compile(r"^\s*(\d+)\s*(s|sec|seconds)?\s*$", re.I)
_MINUTES = re.compile(r"^\s*(\d+)\s*m\s*$", re.I)
_BYTES = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]?)b?\s*$", re.I)


def http_api_hints(name: str, value: str) -> str | None:
    """A finding when a variable hints at a limit of an HTTP API, else None."""
    if _WEBSOCKET.search(value) or _WEBSOCKET.search(name):
        return f"{name}: WebSockets: an HTTP API does not carry them; keep those on a WebSocket API or an ALB"
    if _TIMEOUT_NAME.search(name):
        seconds = None
        if m := _SECONDS.match(value):
            seconds = int(m.group(1))
            if seconds > 10_000:  # milliseconds
                seconds //= 1000
        elif m := _MINUTES.match(value):
            seconds = int(m.group(1)) * 60
        if seconds is not None and seconds > 30:
            return f"{name}={value}: requests over 30 s: an HTTP API integration times out at 30 s"
    if _SIZE_NAME.search(name) and (m := _BYTES.match(value)):
        scale = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[m.group(2).lower()]
        if float(m.group(1)) * scale >= 10 * 1024**2:
            return f"{name}={value}: payloads of 10 MB or more: an HTTP API accepts at most 10 MB per request"
    return None
