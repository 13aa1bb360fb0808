"""MIGRATION-<app>.md: the decisions, per stack what `mapgate plan` will say, the cost, and every key once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mapgate.importers.copilot.ledger import STATUSES

if TYPE_CHECKING:
    from mapgate.importers.copilot.importer import ImportResult


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(result: ImportResult) -> str:
    counts = result.counts()
    total = sum(counts.values())
    out = [
        f"# Migrating the Copilot application `{result.app}` to mapgate",
        "",
        f"Written by `mapgate import copilot`. {total} manifest keys: "
        + ", ".join(f"{counts[s]} {s}" for s in STATUSES)
        + ". Every key of every manifest (each key whose value is not a mapping) appears once in **Keys** below.",
        "",
        "## Decisions",
        "",
        "- **Names.** Copilot's `<svc>.<env>.<app>.local` becomes `<svc>.<env>.<app>.internal`: the namespace "
        "keeps its shape, and mapgate rejects `.local`, which RFC 6762 reserves for multicast DNS (a laptop on a VPN "
        "asks mDNS, not Route 53, for it). Variables that spell the old names are rewritten; "
        "`COPILOT_SERVICE_DISCOVERY_ENDPOINT` is the new namespace, so code that builds "
        "`<svc>.${COPILOT_SERVICE_DISCOVERY_ENDPOINT}` keeps working. Names in code or files the import cannot see "
        "(search them for `.local`) need the same change.",
        "- **Copilot's variables.** Every task gets `COPILOT_APPLICATION_NAME`, `COPILOT_ENVIRONMENT_NAME`, "
        "`COPILOT_SERVICE_NAME` and `COPILOT_SERVICE_DISCOVERY_ENDPOINT`, as Copilot set them.",
        "- **Who may call whom.** Copilot's environment security group let every service call every other one; "
        "each service with a port lists every other service in `allowFrom`. Tighten these lists.",
        "- **Service Connect.** Short names such as `http://api:8000` do not resolve through Cloud Map DNS (awsvpc "
        "tasks get no search domain); those in variables are rewritten to the full name.",
        "- **Services without a port** (workers) get no Cloud Map name, no ingress and no route.",
        "- **Load Balanced Web Services** get API routes instead of an ALB: `/` is `ANY /` plus `ANY /{proxy+}`, "
        "another path the same under its prefix. An HTTP API answers within 30 s and takes at most 10 MB, and "
        "carries no WebSockets.",
        "- **Copilot's defaults** are written out: `desiredCount: 1` and `architecture: x86_64` where a manifest "
        "leaves them out (mapgate's own defaults are 2 and arm64).",
        "",
    ]
    if result.ws.notes:
        out += ["## Workspace", ""] + [f"- {note}" for note in result.ws.notes] + [""]
    for env, stack in result.stacks.items():
        out += [f"## Stack `{env}` (Pulumi.{env}.yaml)", ""]
        if stack.problems:
            out += ["`mapgate plan` will stop on these until you fix them:", ""]
            out += [f"- {p}" for p in stack.problems] + [""]
        else:
            out += ["Nothing to fix before `mapgate plan -s " + env + "`.", ""]
        if stack.findings:
            out += ["What changed on the way, and where to look:", ""] + [f"- {f}" for f in stack.findings] + [""]
        copilot_total = sum(line.copilot_usd for line in stack.cost)
        mapgate_total = sum(line.mapgate_usd for line in stack.cost)
        out += [
            "Monthly cost, USD, us-east-1 prices that `mapgate plan` uses (logs and traffic left out on both sides):",
            "",
            "| | Copilot as it ran | mapgate |",
            "|---|---:|---:|",
        ]
        out += [f"| {line.name} | {line.copilot_usd:.2f} | {line.mapgate_usd:.2f} |" for line in stack.cost]
        out += [f"| **Total** | **{copilot_total:.2f}** | **{mapgate_total:.2f}** |", ""]
    if result.ws.extra_files:
        out += ["## Files not imported", ""]
        out += [f"- `{result.ws.relative(path)}`: {what}" for path, what in result.ws.extra_files] + [""]
    out += ["## Keys", ""]
    for ledger in result.ledgers:
        out += [f"### `{ledger.name}`", "", "| Key | Status | Where it went / what to do |", "|---|---|---|"]
        for key in ledger.keys:
            entry = ledger.entries[key]
            out.append(f"| `{_cell('.'.join(key))}` | {entry.status} | {_cell(entry.detail)} |")
        out.append("")
    return "\n".join(out)
