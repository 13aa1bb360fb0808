"""`mapgate import copilot`: a Copilot workspace in, one stack file per environment and MIGRATION-<app>.md out.

Everything is read and mapped before anything is written; bad input stops the import with one line and no file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mapgate import aws_facts
from mapgate.importers.copilot import checks, cost, names, report, workspace
from mapgate.importers.copilot.environment import EnvironmentResult, map_environment
from mapgate.importers.copilot.errors import CopilotInputError
from mapgate.importers.copilot.ledger import ManifestLedger
from mapgate.importers.copilot.mapping import (
    LBWS,
    RUNNABLE,
    WORKER,
    Context,
    ServiceResult,
    ServiceView,
    map_service,
    merge,
)
from mapgate.importers.copilot.yaml12 import plain


@dataclass(frozen=True)
class ImportRequest:
    workspace: Path
    project_dir: Path
    app: str | None = None
    envs: Sequence[str] = ()
    shell: Mapping[str, str] | None = None
    """The variables `${VAR}` resolves from; the importing process's environment when None."""


@dataclass
class StackImport:
    env: str
    config: dict[str, Any]
    problems: list[str] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    cost: list[cost.Line] = field(default_factory=list)


@dataclass
class ImportResult:
    app: str
    stacks: dict[str, StackImport]
    ledgers: list[ManifestLedger]
    ws: workspace.Workspace
    files: dict[Path, str]
    """What to write, by path: the stack files and the report."""

    def counts(self) -> dict[str, int]:
        total = {"mapped": 0, "approximated": 0, "not supported": 0}
        for ledger in self.ledgers:
            for status, n in ledger.counts().items():
                total[status] += n
        return total


def _environment_names(ws: workspace.Workspace, extra: Sequence[str]) -> list[str]:
    found = dict.fromkeys(ws.environments)
    for doc in ws.services.values():
        overrides = doc.data.get("environments")
        for env in overrides if isinstance(overrides, dict) else {}:
            if env not in found and (not aws_facts.DNS_LABEL.match(env.lower()) or env != env.lower()):
                raise doc.error(
                    ("environments", env),
                    f"environment {env!r} has no manifest and cannot be a stack: its name must be a DNS label "
                    "(lower-case letters, digits, '-')",
                )
            found.setdefault(env)
    for env in extra:
        if not aws_facts.DNS_LABEL.match(env):
            raise CopilotInputError(f"--env {env}: not a usable stack name (lower-case letters, digits, '-')")
        found.setdefault(env)
    if not found:
        raise CopilotInputError(
            f"{ws.copilot_dir}: no environment manifest and no environments: overrides; name one with --env NAME"
        )
    return list(found)


def _leftovers(ledger: ManifestLedger, envs: list[str]) -> None:
    """Keys no rule read: overridden everywhere, or unknown to the importer (and then said so)."""
    for key in ledger.unaccounted():
        if key[0] != "environments" and envs and all(ledger.has(("environments", env, *key[:1])) for env in envs):
            ledger.mark(key, "approximated", "every environment overrides it, so Copilot never deployed this value")
        elif key[0] == "environments" and len(key) == 2:
            ledger.mark(key, "mapped", f"stack {key[1]} (no overrides)")
        else:
            ledger.mark(
                key,
                "not supported",
                "the importer knows no mapgate counterpart (Copilot may not read it either); carry it over by hand",
            )


def _stack_config(
    app: str,
    env: str,
    results: dict[str, ServiceResult],
    env_result: EnvironmentResult | None,
) -> tuple[dict[str, Any], list[str], list[str]]:
    namespace = names.namespace_for(app, env)
    problems = [p for r in results.values() for p in r.problems]
    findings = [f for r in results.values() for f in r.findings]
    services = {name: r.config for name, r in results.items() if r.config is not None}
    config: dict[str, Any] = {}
    hint = region_hint(env_result.certificates if env_result else [], services)
    if hint is not None:
        config["aws:region"] = hint[0]
        findings.append(f"aws:region: {hint[0]}, read from {hint[1]}: check it is where the environment ran")
    else:
        findings.append("aws:region: no manifest says where the environment ran; set it in the stack file")
    config["mapgate:namespace"] = namespace
    network: dict[str, Any] = dict((env_result.stack.get("network") if env_result else None) or {})
    if "existing" not in network:
        private = any(r.private_placement for r in results.values())
        network["egress"] = "natGatewayPerAz" if private else "publicIp"
        if private:
            findings.append(
                "network.egress: natGatewayPerAz, as Copilot ran private tasks; natInstance costs less "
                "(`mapgate plan` prices each egress)"
            )
    config["mapgate:network"] = network
    config["mapgate:services"] = services
    routes: dict[str, Any] = {}
    for name, r in sorted(results.items()):
        for key, route in r.routes.items():
            if key in routes:
                problems.append(
                    f"{name}: route {key} is already {routes[key]['service']}'s; give one of them another http.path"
                )
                continue
            routes[key] = route
    api: dict[str, Any] = {}
    if routes:
        api["routes"] = routes
    every_alias = [a for r in results.values() for a in r.aliases]
    aliases = [(name.lower(), zone) for name, zone in every_alias if _domain_name(name.lower())]
    for name, _ in every_alias:
        if not _domain_name(name.lower()):
            findings.append(
                f"alias {name}: api.domain takes one plain DNS name (no wildcard): serve it outside mapgate, or "
                "name each host"
            )
    if aliases and routes:
        domain: dict[str, Any] = {"name": aliases[0][0]}
        if aliases[0][1]:
            domain["hostedZoneId"] = aliases[0][1]
        if env_result and env_result.certificates:
            domain["certificateArn"] = env_result.certificates[0]
        api["domain"] = domain
        if set(domain) == {"name"}:
            problems.append(
                f"api.domain {domain['name']}: no certificate in the environment manifest (Copilot used the "
                "application's domain): set api.domain.hostedZoneId (mapgate requests the certificate) or "
                "certificateArn"
            )
        if len({a[0] for a in aliases}) > 1:
            findings.append(
                f"api.domain is {aliases[0][0]}; the other aliases need a stack each (one domain per stack)"
            )
    if api:
        config["mapgate:api"] = api
    if env_result and "containerInsights" in env_result.stack:
        config["mapgate:containerInsights"] = env_result.stack["containerInsights"]
    retentions = [r.log_retention for r in results.values() if r.log_retention]
    if retentions:
        longest = max(retentions)
        allowed = [d for d in aws_facts.LOG_RETENTION_DAYS if d >= longest]
        config["mapgate:logRetentionDays"] = allowed[0] if allowed else max(aws_facts.LOG_RETENTION_DAYS)
    if env_result:
        problems += env_result.problems
    return config, problems, findings


_ACM_REGION = re.compile(r"^arn:aws[a-z-]*:acm:([a-z0-9-]+):")
_ECR_REGION = re.compile(r"^\d{12}\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com/")


def _domain_name(name: str) -> bool:
    labels = name.split(".")
    return len(labels) >= 2 and len(name) <= aws_facts.DNS_NAME_MAX and all(map(aws_facts.DNS_LABEL.match, labels))


def region_hint(certificates: Sequence[str], services: Mapping[str, Any]) -> tuple[str, str] | None:
    """The environment's Region, as its manifests give it away: a certificate's ARN (an ALB's certificate is in
    its own Region), else a private ECR image (pulled from the same Region, most likely)."""
    for arn in certificates:
        if m := _ACM_REGION.match(arn):
            return m.group(1), "the environment's certificate"
    for name, svc in sorted(services.items()):
        if isinstance(svc.get("image"), str) and (m := _ECR_REGION.match(svc["image"])):
            return m.group(1), f"the ECR image of {name}"
    return None


def run(request: ImportRequest) -> ImportResult:
    """Read, check and map the whole workspace; returns what to write. Raises CopilotInputError on bad input."""
    if not request.project_dir.is_dir():
        raise CopilotInputError(f"--project-dir {request.project_dir}: not a directory")
    ws = workspace.read(request.workspace, request.app)
    for doc in ws.services.values():
        checks.check_service(doc)
    for doc in ws.environments.values():
        checks.check_environment(doc)
    envs = _environment_names(ws, request.envs)
    shell = dict(os.environ) if request.shell is None else dict(request.shell)
    service_ledgers = {name: ManifestLedger(ws.relative(doc.path), doc) for name, doc in ws.services.items()}
    env_ledgers = {name: ManifestLedger(ws.relative(doc.path), doc) for name, doc in ws.environments.items()}
    pipeline_ledgers = [ManifestLedger(ws.relative(doc.path), doc) for doc in ws.pipelines]
    for ledger in pipeline_ledgers:
        ledger.mark((), "not supported", "a Copilot pipeline (CodePipeline): run `mapgate up -s <env>` from your CI")
    stacks: dict[str, StackImport] = {}
    for env in envs:
        views: dict[str, ServiceView] = {}
        for name, doc in ws.services.items():
            base = {k: v for k, v in doc.data.items() if k != "environments"}
            overrides = doc.data.get("environments")
            override = overrides.get(env) if isinstance(overrides, dict) else None
            data = merge(base, override) if isinstance(override, dict) else base
            kind = str(plain(data.get("type")))
            views[name] = ServiceView(
                names.service_name(name),
                kind,
                env,
                data,
                service_ledgers[name],
                names.Interpolation(ws.app, env, shell),
                copilot_name=name,
            )
        runnable = [n for n, v in views.items() if v.kind in RUNNABLE]
        listening = {
            n: views[n].name
            for n in runnable
            if isinstance(plain(views[n].get("image", "port")), int) and views[n].kind != WORKER
        }
        ctx = Context(
            app=ws.app,
            env=env,
            namespace=names.namespace_for(ws.app, env),
            workspace_root=ws.root,
            project_dir=request.project_dir,
            listening=listening,
            callers=sorted(views[n].name for n in runnable),
        )
        results = {view.name: map_service(view, ctx) for view in views.values()}
        env_result = map_environment(ws.environments[env].data, env_ledgers[env]) if env in ws.environments else None
        config, problems, findings = _stack_config(ws.app, env, results, env_result)
        mapgate_services = list(config["mapgate:services"].values())
        network = config["mapgate:network"]
        lines = cost.compare(
            # The import keeps Copilot's sizes, counts, platform and capacity: the same tasks on both sides.
            copilot_services=mapgate_services,
            mapgate_services=mapgate_services,
            has_alb=any(v.kind == LBWS for v in views.values()),
            copilot_nat=any(r.private_placement for r in results.values()),
            mapgate_egress=str(network.get("egress", "existing")),
            imported_vpc="existing" in network,
        )
        if not config["mapgate:services"]:
            problems.append("no service mapgate can run in this environment: `mapgate plan` needs at least one")
        stacks[env] = StackImport(env, config, problems, findings, lines)
    ledgers = [*service_ledgers.values(), *env_ledgers.values(), *pipeline_ledgers]
    for ledger in [*service_ledgers.values(), *env_ledgers.values()]:
        _leftovers(ledger, envs)
    files: dict[Path, str] = {}
    for env, stack in stacks.items():
        files[request.project_dir / f"Pulumi.{env}.yaml"] = stack_file(ws.app, stack)
    result = ImportResult(ws.app, stacks, ledgers, ws, files)
    files[request.project_dir / f"MIGRATION-{ws.app}.md"] = report.render(result)
    return result


def stack_file(app: str, stack: StackImport) -> str:
    header = (
        "# yaml-language-server: $schema=./schema/stack.schema.json\n"
        f"# Imported from the Copilot application {app!r}, environment {stack.env!r}, by `mapgate import copilot`.\n"
        f"# MIGRATION-{app}.md says where every manifest key went, and what to set before\n"
        f"# `mapgate plan -s {stack.env}`.\n"
    )
    return header + yaml.safe_dump({"config": stack.config}, sort_keys=False, allow_unicode=True, width=120)


def write(result: ImportResult, *, force: bool) -> list[Path]:
    """Write every file, or none: an existing file stops the import unless `force`."""
    existing = [path for path in result.files if path.exists()]
    if existing and not force:
        raise CopilotInputError(f"{existing[0]}: exists; pass --force to overwrite it (nothing was written)")
    for path, content in result.files.items():
        path.write_text(content, encoding="utf-8")
    return list(result.files)
