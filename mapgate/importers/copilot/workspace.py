"""Find a Copilot workspace's manifests: `copilot/.workspace`, each service's and each environment's."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from mapgate.importers.copilot import yaml12
from mapgate.importers.copilot.errors import CopilotInputError

SERVICE_TYPES = (
    "Load Balanced Web Service",
    "Backend Service",
    "Worker Service",
    "Request-Driven Web Service",
    "Scheduled Job",
    "Static Site",
)
ENVIRONMENT_TYPE = "Environment"


@dataclass
class Workspace:
    root: Path
    """The directory holding `copilot/` (Copilot resolves build paths against it)."""
    copilot_dir: Path
    app: str
    services: dict[str, yaml12.Document]
    environments: dict[str, yaml12.Document]
    pipelines: list[yaml12.Document] = field(default_factory=list)
    extra_files: list[tuple[Path, str]] = field(default_factory=list)
    """Files with CloudFormation in them (addons, overrides), and what to do instead of each."""
    notes: list[str] = field(default_factory=list)

    def relative(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)


def copilot_dir_in(repository: Path) -> Path | None:
    """The shallowest `copilot/` directory of a repository, outside `_linked/` (a corpus's copies of linked
    repositories): where a bench finds a workspace without being told."""
    found = sorted(
        (p for p in repository.rglob("copilot") if p.is_dir() and "_linked" not in p.relative_to(repository).parts),
        key=lambda p: len(p.parts),
    )
    return found[0] if found else None


def _copilot_dir(root: Path) -> Path:
    if (root / "copilot").is_dir():
        return root / "copilot"
    if root.name == "copilot" and root.is_dir():
        return root
    raise CopilotInputError(f"{root}: not a Copilot workspace (no copilot/ directory)")


def _app_name(copilot_dir: Path, app: str | None) -> str:
    marker = copilot_dir / ".workspace"
    if not marker.is_file():
        if app:
            return app
        raise CopilotInputError(
            f"{marker}: not found, so the application's name is unknown: pass --app NAME (as `copilot app ls` shows it)"
        )
    doc = yaml12.load(marker)
    data = yaml12.plain(doc.data)
    name = data.get("application") if isinstance(data, dict) else None
    if not isinstance(name, str) or not name:
        raise doc.error((), "no `application:` name in .workspace")
    return app or name


def _type_of(doc: yaml12.Document, allowed: tuple[str, ...]) -> str:
    if not isinstance(doc.data, dict):
        raise doc.error((), "a manifest must be a mapping of keys")
    kind = yaml12.plain(doc.data.get("type"))
    if kind not in allowed:
        raise doc.error(("type",), f"unknown type {kind!r}; Copilot knows {', '.join(repr(t) for t in allowed)}")
    return str(kind)


def _environments_dir(copilot_dir: Path, ws_notes: list[str]) -> Path | None:
    envs = copilot_dir / "environments"
    if envs.is_dir():
        return envs
    if envs.is_file():
        # A git symlink checked out as a plain file (core.symlinks=false) holds the link's target.
        target = envs.read_text(encoding="utf-8", errors="replace").strip()
        resolved = (copilot_dir / target).resolve()
        if target and "\n" not in target and resolved.is_dir():
            ws_notes.append(f"copilot/environments is a link to {target}: read the environments there")
            return resolved
        ws_notes.append(
            f"copilot/environments is a link to {target!r}, which is not here: environments come from the services' "
            "`environments:` overrides and --env"
        )
    return None


def read(root: Path, app: str | None = None) -> Workspace:
    """Read every manifest. Raises CopilotInputError on the first one Copilot could not read either."""
    # Absolute, not resolved: a workspace linked into the project stays inside it, as mapgate's build check sees it.
    copilot_dir = _copilot_dir(Path(os.path.abspath(root)))
    ws_root = copilot_dir.parent
    notes: list[str] = []
    name = _app_name(copilot_dir, app)
    services: dict[str, yaml12.Document] = {}
    environments: dict[str, yaml12.Document] = {}
    pipelines: list[yaml12.Document] = []
    extra: list[tuple[Path, str]] = []
    for manifest in sorted(copilot_dir.glob("*/manifest.yml")):
        directory = manifest.parent.name
        if directory in ("environments", "pipelines"):
            continue
        doc = yaml12.load(manifest)
        _type_of(doc, SERVICE_TYPES)
        services[str(yaml12.plain(doc.data.get("name")) or directory)] = doc
    envs_dir = _environments_dir(copilot_dir, notes)
    if envs_dir is not None:
        for manifest in sorted(envs_dir.glob("*/manifest.yml")):
            doc = yaml12.load(manifest)
            _type_of(doc, (ENVIRONMENT_TYPE,))
            environments[str(yaml12.plain(doc.data.get("name")) or manifest.parent.name)] = doc
        for addon in sorted((envs_dir / "addons").glob("*")):
            extra.append((addon, _ADDON))
        for patch in sorted((envs_dir / "overrides").glob("*")):
            if patch.suffix in (".yml", ".yaml", ".ts"):
                extra.append((patch, _OVERRIDE))
    for manifest in sorted((copilot_dir / "pipelines").glob("*/manifest.yml")) + sorted(
        copilot_dir.glob("pipeline.yml")
    ):
        pipelines.append(yaml12.load(manifest))
    for service_dir in sorted(
        p for p in copilot_dir.iterdir() if p.is_dir() and p.name not in ("environments", "pipelines")
    ):
        extra += [(addon, _ADDON) for addon in sorted((service_dir / "addons").glob("*"))]
        extra += [
            (patch, _OVERRIDE)
            for patch in sorted((service_dir / "overrides").glob("*"))
            if patch.suffix in (".yml", ".yaml", ".ts")
        ]
    if not services and not environments:
        raise CopilotInputError(f"{copilot_dir}: not a Copilot workspace (no */manifest.yml under it)")
    return Workspace(ws_root, copilot_dir, name, services, environments, pipelines, extra, notes)


_ADDON = (
    "not supported: CloudFormation addons (RDS, Redis, S3, IAM) are not created by mapgate. Create them with your own "
    "Pulumi program or keep the addon stack, and pass what the service reads (names, URLs) in `environment` or "
    "`secrets`; grant the task role access yourself"
)
_OVERRIDE = (
    "not supported: CloudFormation patches / CDK overrides apply to Copilot's templates. Express the change in the "
    "stack config, or as a Pulumi transform in your own program"
)
