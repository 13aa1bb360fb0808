"""One Copilot service, as one environment sees it, turned into a mapgate service config; every key accounted for.

A service's manifest is read per environment, as Copilot deploys it: the base keys with `environments.<env>`
merged over them (maps merge, anything else replaces). Each key the mapping reads is marked in the ledger at both
places it can come from (`count` and `environments.prod.count`).
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mapgate import aws_facts
from mapgate.importers.copilot import names
from mapgate.importers.copilot.ledger import ManifestLedger, Status
from mapgate.importers.copilot.yaml12 import KeyPath, Scalar, plain

LBWS = "Load Balanced Web Service"
BACKEND = "Backend Service"
WORKER = "Worker Service"
RUNNABLE = (LBWS, BACKEND, WORKER)

UNSUPPORTED_TYPES = {
    "Scheduled Job": (
        "mapgate runs long-lived services only. Run the job as an EventBridge Scheduler target "
        "(ECS RunTask) in your own Pulumi program, or as a mapgate worker service that sleeps until its schedule"
    ),
    "Request-Driven Web Service": (
        "App Runner. Change `type` to Load Balanced Web Service (image.port, http.path) and import "
        "again: mapgate then serves it through the HTTP API"
    ),
    "Static Site": "serve static files from S3 and CloudFront, outside mapgate",
}

# Keys mapgate has no counterpart for, by Copilot key path (`*` is any one key), and what to do instead.
NOT_SUPPORTED: dict[KeyPath, str] = {
    ("exec",): "mapgate turns ECS Exec off (Security Hub ECS.* findings); read logs, or run a one-off task",
    ("sidecars",): "run the sidecar as a mapgate service of its own and call it by name, or build it into the image",
    ("taskdef_overrides",): "no task-definition patches: express the change as a stack key, or a Pulumi transform",
    ("storage", "volumes"): "EFS volumes are not mounted: use S3, a database, or keep state outside the task",
    ("storage", "ephemeral"): "tasks get Fargate's default 20 GiB of ephemeral storage",
    ("publish",): "no SNS topics: create them in your own program and pass their ARNs in environment",
    ("subscribe",): (
        "no SQS queues: create the queue in your own program, pass its URL in environment (Copilot's "
        "COPILOT_QUEUE_URI is not set) and grant the task role sqs:ReceiveMessage"
    ),
    ("tags",): "mapgate tags every resource with its stack and service; add others with a Pulumi stack transform",
    ("observability",): "no X-Ray sidecar: instrument with OpenTelemetry and export from the app",
    ("nlb",): "no Network Load Balancer: a TCP service is reached by its Cloud Map name inside the VPC (protocol: tcp)",
    ("network", "vpc", "security_groups"): "mapgate makes one security group per service; open access with allowFrom",
    ("http", "stickiness"): "ALB only: the HTTP API picks a task per request; keep session state out of the task",
    ("http", "deregistration_delay"): "ALB only: ECS stops a task once Cloud Map has deregistered it",
    ("http", "target_container"): "the route reaches the service's own container; a sidecar in front is not built",
    ("http", "allowed_source_ips"): "the HTTP API has no source-IP filter: use IAM or JWT authorization on the route",
    ("http", "additional_rules"): "one path per service: add api.routes by hand for the other paths",
    ("http", "hosted_zone"): "set api.domain.hostedZoneId",
    ("http", "version"): "the HTTP API speaks HTTP/1.1 and HTTP/2 to clients, HTTP/1.1 to tasks",
    ("http", "redirect_to_https"): "the HTTP API only serves HTTPS",
    ("http", "alb"): (
        "an imported ALB: mapgate publishes through its own HTTP API; point the names the ALB served at api.domain"
    ),
    ("http", "target_port"): "the routes reach image.port: set services.<name>.port if the app listens elsewhere",
    ("http", "port"): "Copilot ignores http.port (the ALB sends to image.port or http.target_port)",
    ("vpc",): "Copilot ignores a top-level vpc: in a service manifest (it reads network.vpc)",
    ("count", "requests"): "ALB request-count scaling: scale on cpu/memory (autoscaling.cpuTarget)",
    ("count", "response_time"): "ALB response-time scaling: scale on cpu/memory (autoscaling.cpuTarget)",
    ("count", "spot_from"): (
        "Copilot ignores spot_from here (it reads count.range.spot_from), so these tasks ran on demand; "
        "mapgate keeps them on demand"
    ),
    ("logging", "destination"): "FireLens routing: tasks log to CloudWatch Logs",
    ("logging", "image"): "FireLens routing: tasks log to CloudWatch Logs",
    ("logging", "enableMetadata"): "FireLens routing: tasks log to CloudWatch Logs",
    ("logging", "secretOptions"): "FireLens routing: tasks log to CloudWatch Logs",
    ("logging", "configFilePath"): "FireLens routing: tasks log to CloudWatch Logs",
    ("logging", "variables"): "FireLens routing: tasks log to CloudWatch Logs",
    ("logging", "secrets"): "FireLens routing: tasks log to CloudWatch Logs",
    ("image", "build", "healthcheck"): "Copilot ignores a health check here too (it reads image.healthcheck)",
    ("image", "target"): "Copilot ignores image.target beside a string image.build; see image.build.target",
    ("image", "build", "cache_from"): "mapgate builds without a cache source",
    ("image", "credentials"): "private registry credentials are not passed: push the image to ECR",
    ("image", "labels"): "no extra Docker labels",
    ("image", "depends_on"): "one container per task: nothing to order",
    ("deployment", "rolling"): "mapgate deploys 100 %/200 % with the circuit breaker and rollback",
    ("deployment", "rollback_alarms"): "the circuit breaker rolls back; alarms do not",
    ("network", "connect"): (
        "Service Connect is replaced by Cloud Map DNS (short names in variables are rewritten to <svc>.<namespace>)"
    ),
}
MISPLACED_HTTP_HEALTH = (
    "healthy_threshold",
    "unhealthy_threshold",
    "interval",
    "timeout",
    "grace_period",
    "success_codes",
)


def go_duration(text: str) -> float | None:
    """Seconds in a Go duration such as `10s`, `1m30s` or `100ms`, or None."""
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", text.strip())
    if not parts or "".join(n + u for n, u in parts) != text.strip():
        return None
    scale = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    return sum(float(n) * scale[u] for n, u in parts)


def merge(base: Any, override: Any) -> Any:
    """Copilot's override: maps merge key by key, anything else (lists, scalars) replaces."""
    if isinstance(base, dict) and isinstance(override, dict):
        result = dict(base)
        for key, value in override.items():
            result[key] = merge(base.get(key), value) if key in base else value
        return result
    return override


def get(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def items(node: Any) -> list[Any]:
    """A list node's items; nothing for a null or anything else (go-yaml decodes null into an empty list)."""
    return node if isinstance(node, list) else []


def text(node: Any) -> str | None:
    return str(node) if isinstance(node, Scalar) and node.kind != "null" else None


@dataclass
class ServiceView:
    """One service as environment `env` deploys it, with the ledger its keys are marked in."""

    name: str
    """The mapgate service name (`names.service_name`)."""
    kind: str
    env: str
    data: dict[str, Any]
    ledger: ManifestLedger
    interpolation: names.Interpolation
    copilot_name: str = ""

    def mark(self, path: KeyPath, status: Status, detail: str) -> None:
        self.ledger.mark(path, status, detail)
        self.ledger.mark(("environments", self.env, *path), status, detail)

    def get(self, *path: str) -> Any:
        return get(self.data, *path)

    def value(self, *path: str) -> Any:
        return plain(self.get(*path))

    def string(self, *path: str) -> str | None:
        raw = text(self.get(*path))
        return None if raw is None else self.interpolation.resolve(raw)[0]


@dataclass
class ServiceResult:
    config: dict[str, Any] | None
    routes: dict[str, dict[str, Any]] = field(default_factory=dict)
    aliases: list[tuple[str, str | None]] = field(default_factory=list)
    """(domain, hosted zone id) the ALB answered on."""
    private_placement: bool = False
    problems: list[str] = field(default_factory=list)
    """What `mapgate plan` will reject, said up front."""
    findings: list[str] = field(default_factory=list)
    """What the import changes or cannot carry, beyond one key (names rewritten, HTTP API limits, tightening)."""
    log_retention: int | None = None


@dataclass(frozen=True)
class Context:
    app: str
    env: str
    namespace: str
    workspace_root: Path
    project_dir: Path
    listening: dict[str, str]
    """Copilot name -> mapgate name of the services of this environment that have a port."""
    callers: list[str]
    """Every imported service of this environment: Copilot lets each call every other one."""


def _architecture(view: ServiceView, result: ServiceResult, svc: dict[str, Any]) -> None:
    platform = view.value("platform")
    if platform is None:
        svc["architecture"] = "x86_64"  # Copilot's default platform is linux/x86_64
        return
    if isinstance(platform, dict):
        osfamily, arch = str(platform.get("osfamily", "linux")), str(platform.get("architecture", "x86_64"))
    else:
        osfamily, _, arch = str(platform).partition("/")
    if osfamily.lower() != "linux":
        view.mark(("platform",), "not supported", "Windows tasks: mapgate runs Linux tasks only")
        result.problems.append(f"{view.name}: runs on {platform}; mapgate runs Linux only (x86_64 assumed)")
        svc["architecture"] = "x86_64"
        return
    svc["architecture"] = "arm64" if arch.lower() in ("arm64", "arm", "aarch64") else "x86_64"
    view.mark(("platform",), "mapped", f"services.{view.name}.architecture: {svc['architecture']}")


def _sizing(view: ServiceView, result: ServiceResult, svc: dict[str, Any]) -> None:
    cpu, memory = view.value("cpu"), view.value("memory")
    svc["cpu"] = cpu if isinstance(cpu, int) else 256
    svc["memory"] = memory if isinstance(memory, int) else 512
    allowed = aws_facts.FARGATE_MEMORY_BY_CPU.get(svc["cpu"])
    fits = allowed is not None and svc["memory"] in allowed
    note = (
        "" if fits else " (not a Fargate cpu/memory pair: `mapgate plan` rejects it; pick one from the Fargate table)"
    )
    if not fits:
        result.problems.append(f"{view.name}: cpu {svc['cpu']} / memory {svc['memory']} is not a Fargate size")
    view.mark(("cpu",), "mapped", f"services.{view.name}.cpu{note}")
    view.mark(("memory",), "mapped", f"services.{view.name}.memory{note}")


def _count(view: ServiceView, result: ServiceResult, svc: dict[str, Any]) -> None:
    count = view.get("count")
    svc["desiredCount"] = 1  # Copilot's default
    if isinstance(count, Scalar):
        value = count.value
        if isinstance(value, int):
            svc["desiredCount"] = value
            view.mark(("count",), "mapped", f"services.{view.name}.desiredCount")
        return
    if not isinstance(count, dict):
        return
    spot = plain(count.get("spot"))
    if isinstance(spot, int):
        svc["desiredCount"], svc["capacity"] = spot, "spot"
        view.mark(("count", "spot"), "mapped", f"services.{view.name}.desiredCount and capacity: spot")
    scaling: dict[str, Any] = {}
    rng = count.get("range")
    low = high = None
    if isinstance(rng, Scalar) and (m := re.match(r"^\s*(\d+)\s*-\s*(\d+)\s*$", rng.text)):
        low, high = int(m.group(1)), int(m.group(2))
        view.mark(("count", "range"), "mapped", f"services.{view.name}.autoscaling.min/max")
    elif isinstance(rng, dict):
        low, high = plain(rng.get("min")), plain(rng.get("max"))
        view.mark(("count", "range", "min"), "mapped", f"services.{view.name}.autoscaling.min")
        view.mark(("count", "range", "max"), "mapped", f"services.{view.name}.autoscaling.max")
        spot_from = plain(rng.get("spot_from"))
        if isinstance(spot_from, int) and spot_from <= 1:
            svc["capacity"] = "spot"
            view.mark(("count", "range", "spot_from"), "mapped", f"services.{view.name}.capacity: spot")
        else:
            view.mark(
                ("count", "range", "spot_from"),
                "approximated",
                f"services.{view.name}.capacity stays onDemand: mapgate has one capacity per service, and Copilot "
                f"ran the first {spot_from} tasks on demand; set capacity: spot to move every task to Spot",
            )
    for key, target in (("cpu_percentage", "cpuTarget"), ("memory_percentage", "memoryTarget")):
        node = count.get(key)
        value = plain(node.get("value")) if isinstance(node, dict) else plain(node)
        if isinstance(value, int | float):
            scaling[target] = int(value)
            view.mark(
                ("count", key, "value") if isinstance(node, dict) else ("count", key),
                "mapped",
                f"services.{view.name}.autoscaling.{target}",
            )
            view.mark(("count", key), "approximated", "mapgate's cooldowns are fixed: 60 s out, 300 s in")
    view.mark(("count", "cooldown"), "approximated", "mapgate's cooldowns are fixed: 60 s out, 300 s in")
    if isinstance(low, int) and isinstance(high, int):
        if not scaling:
            scaling["cpuTarget"] = 70
            result.findings.append(
                f"{view.name}: scales on CPU at 70 % (Copilot scaled on ALB requests or response time, or on nothing)"
            )
        svc["autoscaling"] = {"min": low, "max": high, **scaling}
        svc["desiredCount"] = max(low, 1) if high >= 1 else 0


def _image(view: ServiceView, ctx: Context, result: ServiceResult, svc: dict[str, Any]) -> None:
    location, build = view.string("image", "location"), view.get("image", "build")
    if location:
        svc["image"] = location
        kept = view.interpolation.resolve(text(view.get("image", "location")) or "")[2]
        if kept:
            view.mark(
                ("image", "location"),
                "approximated",
                f"services.{view.name}.image, with ${{{kept[0]}}} still in it: set it",
            )
            result.problems.append(f"{view.name}: image {location} still has ${{{kept[0]}}}: write the tag")
        else:
            view.mark(("image", "location"), "mapped", f"services.{view.name}.image")
    elif build is not None:
        if isinstance(build, dict):
            dockerfile = view.string("image", "build", "dockerfile")
            context = view.string("image", "build", "context")
            if context is None:
                context = str(Path(dockerfile).parent) if dockerfile else "."
            dockerfile = dockerfile or str(Path(context) / "Dockerfile")
        else:
            dockerfile = view.string("image", "build") or "Dockerfile"
            context = str(Path(dockerfile).parent)
        # Not resolved: a workspace linked into the project stays inside it, as mapgate's build check sees it.
        directory = Path(os.path.normpath(os.path.abspath(ctx.workspace_root / context)))
        project = Path(os.path.normpath(os.path.abspath(ctx.project_dir)))
        try:
            build_dir = directory.relative_to(project).as_posix() or "."
        except ValueError:
            build_dir = str(directory)
            result.problems.append(
                f"{view.name}: build context {directory} is outside the mapgate project: import with --project-dir "
                "set to the workspace or a directory above it"
            )
        image: dict[str, Any] = {"build": build_dir}
        dockerfile_path = Path(os.path.normpath(os.path.abspath(ctx.workspace_root / dockerfile)))
        detail = f"services.{view.name}.image.build: {build_dir}"
        if dockerfile_path != directory / "Dockerfile":
            try:
                image["dockerfile"] = dockerfile_path.relative_to(project).as_posix()
                detail += f", dockerfile: {image['dockerfile']}"
            except ValueError:
                image["dockerfile"] = str(dockerfile_path)
        if not dockerfile_path.is_file():
            result.problems.append(f"{view.name}: no Dockerfile at {dockerfile_path} (the build needs it)")
        view.mark(("image", "build", "dockerfile") if isinstance(build, dict) else ("image", "build"), "mapped", detail)
        view.mark(("image", "build", "context"), "mapped", f"services.{view.name}.image.build")
        target = view.string("image", "build", "target") if isinstance(build, dict) else None
        if target:
            image["target"] = target
            view.mark(("image", "build", "target"), "mapped", f"services.{view.name}.image.target")
        build_args = view.get("image", "build", "args") if isinstance(build, dict) else None
        if isinstance(build_args, dict):
            image["args"] = {}
            for arg, node in build_args.items():
                value, _, kept = view.interpolation.resolve(str(node) if isinstance(node, Scalar) else "")
                image["args"][arg] = value
                status: Status = "approximated" if kept else "mapped"
                note = f" (${{{kept[0]}}} kept as written: give the value)" if kept else ""
                view.mark(("image", "build", "args", arg), status, f"services.{view.name}.image.args.{arg}{note}")
        svc["image"] = image
    else:
        result.problems.append(
            f"{view.name}: no image.build or image.location in this environment: set services.{view.name}.image"
        )
    port = view.value("image", "port")
    if isinstance(port, int):
        svc["port"] = port
        view.mark(("image", "port"), "mapped", f"services.{view.name}.port")
    elif view.kind == LBWS:
        result.problems.append(f"{view.name}: a Load Balanced Web Service needs image.port")


def _commands(view: ServiceView, result: ServiceResult, svc: dict[str, Any]) -> None:
    def words(*path: str) -> list[str] | None:
        node = view.get(*path)
        if isinstance(node, list):
            return [view.interpolation.resolve(str(item))[0] for item in node]
        raw = view.string(*path)
        return shlex.split(raw) if raw else None

    command, entrypoint = words("command"), words("entrypoint")
    if entrypoint:
        svc["command"] = entrypoint + (command or [])
        view.mark(
            ("entrypoint",),
            "approximated",
            f"services.{view.name}.command starts with it: mapgate sets the command only, so this works when the "
            "image's own ENTRYPOINT is empty",
        )
        view.mark(("command",), "approximated", f"services.{view.name}.command, after the entrypoint")
    elif command:
        svc["command"] = command
        view.mark(("command",), "mapped", f"services.{view.name}.command")


def _health(view: ServiceView, result: ServiceResult, svc: dict[str, Any]) -> None:
    hc = view.get("image", "healthcheck")
    if isinstance(hc, dict):
        command = plain(hc.get("command"))
        if command is not None and not isinstance(command, list):
            command = ["CMD-SHELL", str(command)]
        check: dict[str, Any] = {"command": [str(c) for c in command or []]}
        view.mark(("image", "healthcheck", "command"), "mapped", f"services.{view.name}.healthCheck.command")
        for key, target in (("interval", "interval"), ("timeout", "timeout"), ("start_period", "startPeriod")):
            seconds = go_duration(text(hc.get(key)) or "")
            if seconds is not None:
                check[target] = int(seconds)
                view.mark(("image", "healthcheck", key), "mapped", f"services.{view.name}.healthCheck.{target}")
        if isinstance(plain(hc.get("retries")), int):
            check["retries"] = plain(hc.get("retries"))
            view.mark(("image", "healthcheck", "retries"), "mapped", f"services.{view.name}.healthCheck.retries")
        svc["healthCheck"] = check
        return
    port = svc.get("port")
    if port is None:
        return
    http_hc = view.get("http", "healthcheck")
    path = "/"
    if isinstance(http_hc, Scalar):
        path = str(http_hc) or "/"
    elif isinstance(http_hc, dict):
        path = view.string("http", "healthcheck", "path") or "/"
        port = view.value("http", "healthcheck", "port") or port
    if view.kind != LBWS:
        result.problems.append(
            f"{view.name}: has a port but no image.healthcheck; Copilot counted a running task as healthy, mapgate "
            f"needs services.{view.name}.healthCheck "
            f'(e.g. ["CMD-SHELL", "curl -fs http://localhost:{port}/ || exit 1"])'
        )
        return
    svc["healthCheck"] = {"command": ["CMD-SHELL", f"curl -fs http://localhost:{port}{path} || exit 1"]}
    how = (
        f"services.{view.name}.healthCheck runs curl on http://localhost:{port}{path} inside the task (the image "
        "must have curl); the ALB checked it from outside"
    )
    result.findings.append(f"{view.name}: container health check derived from the ALB's ({path}); the image needs curl")
    view.mark(
        ("http", "healthcheck", "path") if isinstance(http_hc, dict) else ("http", "healthcheck"), "approximated", how
    )
    if isinstance(http_hc, dict):
        check = svc["healthCheck"]
        for key, target in (("interval", "interval"), ("timeout", "timeout"), ("grace_period", "startPeriod")):
            seconds = go_duration(text(http_hc.get(key)) or "")
            if seconds is not None:
                check[target] = max(int(seconds), {"interval": 5, "timeout": 2, "startPeriod": 0}[target])
                view.mark(
                    ("http", "healthcheck", key),
                    "approximated",
                    f"services.{view.name}.healthCheck.{target} (whole seconds, ECS bounds)",
                )
        if isinstance(plain(http_hc.get("unhealthy_threshold")), int):
            check["retries"] = min(max(plain(http_hc["unhealthy_threshold"]), 1), 10)
            view.mark(
                ("http", "healthcheck", "unhealthy_threshold"),
                "approximated",
                f"services.{view.name}.healthCheck.retries",
            )
        view.mark(("http", "healthcheck", "port"), "approximated", "the port curl calls")
        view.mark(
            ("http", "healthcheck", "healthy_threshold"),
            "not supported",
            "ECS counts a task healthy on one passing check",
        )
        view.mark(("http", "healthcheck", "success_codes"), "approximated", "curl -f passes on any status below 400")


def _variables(view: ServiceView, ctx: Context, result: ServiceResult, svc: dict[str, Any]) -> None:
    environment: dict[str, str] = {}
    variables = view.get("variables")
    for name, node in (variables if isinstance(variables, dict) else {}).items():
        if isinstance(node, dict):
            view.mark(
                ("variables", name),
                "not supported",
                "an addon output (from_cfn): create that resource yourself and write its value in environment",
            )
            continue
        raw = str(node) if isinstance(node, Scalar) else ""
        value, from_shell, kept = view.interpolation.resolve(raw)
        value, renamed = names.rewrite_names(
            value, app=ctx.app, env=ctx.env, namespace=ctx.namespace, listening=ctx.listening
        )
        environment[name] = value
        notes = []
        if isinstance(node, Scalar) and node.kind not in ("str", "null"):
            notes.append(f"the {node.kind} {node.text} as the text {value!r}, as Copilot passes it")
        if from_shell:
            notes.append(f"${{{from_shell[0]}}} taken from the importing shell")
        if "COPILOT_LB_DNS" in kept:
            notes.append("${COPILOT_LB_DNS} has no equivalent behind API Gateway: use the stack output apiUrl")
            result.findings.append(
                f"{view.name}.{name}: ${{COPILOT_LB_DNS}} (the ALB's DNS name) has no equivalent: write the API's "
                "URL (stack output apiUrl) or api.domain"
            )
        elif kept:
            notes.append(f"${{{kept[0]}}} kept as written (unknown at import: set it)")
        for change in renamed:
            notes.append(f"name rewritten: {change}")
            result.findings.append(f"{view.name}.{name}: {change}")
        status: Status = "approximated" if renamed or kept else "mapped"
        detail = f"services.{view.name}.environment.{name}" + (f" ({'; '.join(notes)})" if notes else "")
        view.mark(("variables", name), status, detail)
    if environment:
        svc["environment"] = environment


def _http_api_limits(view: ServiceView, result: ServiceResult) -> None:
    """Variables anywhere in the service (its sidecars' too: an nginx in front often holds the timeouts) that hint
    at a limit of the HTTP API the routes now go through."""
    if view.kind != LBWS:
        return

    def walk(node: Any) -> None:
        if not isinstance(node, dict):
            return
        for key, value in node.items():
            if key == "variables" and isinstance(value, dict):
                for name, item in value.items():
                    text_value = view.interpolation.resolve(str(item))[0] if isinstance(item, Scalar) else ""
                    hint = names.http_api_hints(name, text_value)
                    if hint and f"{view.name}: {hint}" not in result.findings:
                        result.findings.append(f"{view.name}: {hint}")
            else:
                walk(value)

    walk(view.data)


def _env_file(view: ServiceView, ctx: Context, result: ServiceResult, svc: dict[str, Any]) -> None:
    """`env_file`: Copilot uploaded it to S3 at each deploy; the import reads it once, into environment."""
    name = view.string("env_file")
    if not name:
        return
    path = ctx.workspace_root / name
    if not path.is_file():
        view.mark(
            ("env_file",),
            "not supported",
            f"{name} is not in the workspace: put its variables in services.{view.name}.environment (or secrets)",
        )
        result.problems.append(f"{view.name}: env_file {name} is not here; its variables are missing")
        return
    read: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        read[key.strip()] = value
    environment = svc.setdefault("environment", {})
    for key, value in read.items():
        environment.setdefault(key, value)  # a variable in the manifest wins, as in Copilot
    view.mark(
        ("env_file",),
        "approximated",
        f"its {len(read)} variables are in services.{view.name}.environment, read once at import (Copilot read "
        "the file at each deploy): keep secrets out of it, in secrets",
    )


def _secrets(view: ServiceView, svc: dict[str, Any]) -> None:
    secrets: dict[str, Any] = {}
    secrets_node = view.get("secrets")
    for name, node in (secrets_node if isinstance(secrets_node, dict) else {}).items():
        if isinstance(node, dict):
            if "secretsmanager" in node and isinstance(node["secretsmanager"], Scalar):
                arn = view.interpolation.resolve(str(node["secretsmanager"]))[0]
                if arn.startswith("arn:"):
                    secrets[name] = arn
                    view.mark(("secrets", name), "mapped", f"services.{view.name}.secrets.{name} (Secrets Manager ARN)")
                    continue
                view.mark(("secrets", name), "not supported", "a Secrets Manager name: write its full ARN in secrets")
                continue
            view.mark(
                ("secrets", name), "not supported", "an addon output (from_cfn): create the secret and name it here"
            )
            continue
        value, _, kept = view.interpolation.resolve(str(node))
        if kept:
            view.mark(
                ("secrets", name), "not supported", f"${{{kept[0]}}} is unknown at import: write the parameter's name"
            )
            continue
        secrets[name] = value
        view.mark(("secrets", name), "mapped", f"services.{view.name}.secrets.{name} (SSM parameter {value})")
    if secrets:
        svc["secrets"] = secrets


def _http(view: ServiceView, result: ServiceResult) -> None:
    if view.kind != LBWS:
        return
    target = view.string("http", "target_container")
    if target and target != view.copilot_name:
        result.findings.append(
            f"{view.name}: the ALB sent requests to the sidecar {target!r}; the routes reach {view.name}'s own port "
            f"instead, so whatever {target} did in front (auth, buffering, rewrites) is gone: build it into the app "
            "or run it as a service of its own"
        )
    path = view.string("http", "path") or "/"
    if not isinstance(view.get("http", "path"), Scalar):
        path = "/"
    prefix = "/" + path.strip("/")
    if prefix == "/":
        result.routes = {"ANY /": {"service": view.name}, "ANY /{proxy+}": {"service": view.name}}
    else:
        result.routes = {f"ANY {prefix}": {"service": view.name}, f"ANY {prefix}/{{proxy+}}": {"service": view.name}}
    view.mark(("http", "path"), "mapped", f"api.routes {' and '.join(result.routes)}")
    alias = view.get("http", "alias")
    aliases: list[tuple[str, str | None]] = []
    for item in alias if isinstance(alias, list) else [alias] if alias is not None else []:
        if isinstance(item, dict):
            name = text(item.get("name"))
            zone = text(item.get("hosted_zone"))
            if name:
                aliases.append((view.interpolation.resolve(name)[0], zone))
        elif isinstance(item, Scalar):
            aliases.append((view.interpolation.resolve(str(item))[0], None))
    if aliases:
        result.aliases = aliases
        detail = f"api.domain.name: {aliases[0][0]}"
        status: Status = "mapped"
        if len(aliases) > 1:
            status = "approximated"
            detail += f"; the other {len(aliases) - 1} name(s) need a stack each (one domain per stack)"
        view.mark(("http", "alias"), status, detail)
    for key in MISPLACED_HTTP_HEALTH:
        view.mark(
            ("http", key),
            "not supported",
            f"Copilot ignores http.{key} (it reads http.healthcheck.{key}); the container health check has its "
            "own timing",
        )
    if view.get("image", "healthcheck") is not None:
        view.mark(
            ("http", "healthcheck"),
            "not supported",
            "the ALB's own check: with no ALB, image.healthcheck (the container's check) alone decides health",
        )
    else:  # what the derived check did not read: keys the ALB's check does not have
        view.mark(
            ("http", "healthcheck"),
            "not supported",
            "Copilot ignores this key in the ALB's health check (a container check reads it under image.healthcheck)",
        )


def map_service(view: ServiceView, ctx: Context) -> ServiceResult:
    """The mapgate config of one service in one environment, and what the report must say about it."""
    if view.kind not in RUNNABLE:
        view.mark((), "not supported", UNSUPPORTED_TYPES.get(view.kind, "not supported"))
        return ServiceResult(config=None)
    result = ServiceResult(config=None)
    svc: dict[str, Any] = {}
    if view.copilot_name and view.copilot_name != view.name:
        view.mark(
            ("name",),
            "approximated",
            f"services.{view.name}: {view.copilot_name!r} is a name mapgate keeps for its own components",
        )
        result.findings.append(
            f"{view.copilot_name} is the mapgate service {view.name} (its Cloud Map name changes too)"
        )
    view.mark(("name",), "mapped", f"services.{view.name}")
    kind_detail = {
        LBWS: "a service with API routes (api.routes) instead of an ALB",
        BACKEND: "a service reached by its Cloud Map name"
        if view.get("image", "port") is not None
        else "a worker: a service without a port",
        WORKER: "a worker: a service without a port",
    }[view.kind]
    view.mark(("type",), "mapped", kind_detail)
    _image(view, ctx, result, svc)
    _commands(view, result, svc)
    _sizing(view, result, svc)
    _architecture(view, result, svc)
    _count(view, result, svc)
    _health(view, result, svc)
    _variables(view, ctx, result, svc)
    _env_file(view, ctx, result, svc)
    _http_api_limits(view, result)
    _secrets(view, svc)
    _http(view, result)
    if view.kind == WORKER:
        svc.pop("port", None)
    port = svc.get("port")
    if port is not None:
        svc["records"] = ["A", "SRV"] if view.kind == LBWS else ["A"]
        others = [name for name in ctx.callers if name != view.name]
        if others:
            svc["allowFrom"] = others
            result.findings.append(
                f"{view.name}: allowFrom lists every other service, as Copilot's environment security group allowed; "
                "tighten it to the services that call it"
            )
    environment = svc.setdefault("environment", {})
    environment.update(
        {
            "COPILOT_APPLICATION_NAME": ctx.app,
            "COPILOT_ENVIRONMENT_NAME": ctx.env,
            "COPILOT_SERVICE_NAME": view.copilot_name or view.name,
            "COPILOT_SERVICE_DISCOVERY_ENDPOINT": ctx.namespace,
        }
    )
    placement = view.value("network", "vpc", "placement")
    if placement is not None:
        result.private_placement = str(placement) == "private"
        view.mark(("network", "vpc", "placement"), "mapped", "network.egress (one choice per stack)")
    if view.value("storage", "readonly_fs") is not None:
        svc["readOnlyRootFilesystem"] = bool(view.value("storage", "readonly_fs"))
        view.mark(("storage", "readonly_fs"), "mapped", f"services.{view.name}.readOnlyRootFilesystem")
    retention = view.value("logging", "retention")
    if isinstance(retention, int):
        result.log_retention = retention
        view.mark(("logging", "retention"), "approximated", "logRetentionDays: one retention per stack (the longest)")
    for path, alternative in NOT_SUPPORTED.items():
        status: Status = "approximated" if path == ("network", "connect") else "not supported"
        view.mark(path, status, alternative)
    result.config = svc
    return result
