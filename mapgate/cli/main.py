"""`mapgate`: plan offline, or drive a stack through the Pulumi Automation API."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from mapgate.cli import automation
from mapgate.cli.cost import Usage

AUTOMATION_COMMANDS = {
    "up": "create or update the stack's resources",
    "preview": "show what `up` would change",
    "refresh": "read the real state of the stack's resources",
    "destroy": "delete every resource of the stack (asks first unless --yes)",
    "outputs": "print the stack outputs",
}


def find_project_dir(start: Path | None = None) -> Path:
    """The directory with Pulumi.yaml: the current one or a parent, else the one this package was installed from."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "Pulumi.yaml").is_file():
            return candidate
    return Path(__file__).resolve().parents[2]


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="mapgate", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    plan = commands.add_parser("plan", help="offline: resource tree, monthly cost, findings, architecture picture")
    plan.add_argument("-s", "--stack", default="dev")
    plan.add_argument("--project-dir", type=Path, default=None, help="where Pulumi.yaml is (default: found upward)")
    plan.add_argument("--out", type=Path, default=Path("out"), help="where the picture goes (default: out/)")
    plan.add_argument("--requests-millions", type=float, default=Usage.api_requests_millions, help="API requests/month")
    plan.add_argument("--log-gb", type=float, default=Usage.log_gb, help="log GB ingested/month")
    plan.add_argument("--nat-gb", type=float, default=Usage.nat_gb, help="GB through NAT gateways/month")
    plan.add_argument(
        "--spot-discount", type=float, default=Usage.spot_discount, help="assumed Spot discount (0-1, AWS: up to 0.7)"
    )

    for name, help_text in AUTOMATION_COMMANDS.items():
        command = commands.add_parser(name, help=help_text + " (needs the Pulumi CLI and AWS credentials)")
        command.add_argument("-s", "--stack", default="dev")
        command.add_argument("--project-dir", type=Path, default=None)
        if name != "outputs":
            command.add_argument("--config", action="append", default=[], metavar="KEY=VALUE", help="set stack config")
            command.add_argument("--secret", action="append", default=[], metavar="KEY=VALUE", help="set secret config")
        if name == "destroy":
            command.add_argument("--yes", action="store_true", help="do not ask")
        if name == "up":
            command.add_argument(
                "--redeploy",
                action="append",
                default=[],
                metavar="SERVICE",
                help="roll this service's tasks with nothing else changed (raises services.SERVICE.redeploy)",
            )
    return top


def run_plan(args: argparse.Namespace, project_dir: Path) -> int:
    from mapgate.cli.diagram import mermaid, png, topology
    from mapgate.cli.plan import make_plan, render

    if not 0 <= args.spot_discount < 1:
        print("error: --spot-discount must be from 0 to below 1", file=sys.stderr)
        return automation.EXIT_USAGE
    usage = Usage(
        api_requests_millions=args.requests_millions,
        log_gb=args.log_gb,
        nat_gb=args.nat_gb,
        spot_discount=args.spot_discount,
    )
    plan = make_plan(project_dir, args.stack, usage)
    print(render(plan))
    if not plan.ok:
        return automation.EXIT_INVALID_CONFIG
    assert plan.inventory is not None  # a plan without findings has read its run
    topo = topology(plan.inventory, args.stack)
    picture = png(topo, args.out / f"{args.stack}.png")
    text = args.out / f"{args.stack}.mmd"
    text.write_text(mermaid(topo))
    print(f"picture: {picture}  mermaid: {text}")
    return automation.EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    project_dir = (args.project_dir or find_project_dir()).resolve()
    if args.command == "plan":
        return run_plan(args, project_dir)
    request = automation.Request(
        command=args.command,
        stack=args.stack,
        config=getattr(args, "config", []),
        secrets=getattr(args, "secret", []),
        yes=getattr(args, "yes", False),
        redeploy=getattr(args, "redeploy", []),
    )
    return automation.run(request, project_dir)


if __name__ == "__main__":
    sys.exit(main())
