"""The NAT instance's first-boot script, run for real under bash with stub commands on PATH.

Each stub logs its call; environment variables make one of them fail. The script must stop non-zero at the
failed step, name it on stderr (what cloud-init copies to the console), and never reach the next step; a good run
ends with the ruleset checked and the service enabled. A failed boot also tags its instance, through the AWS CLI
(stubbed too) with the id and Region from instance metadata.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from mapgate.components.network.nat import BOOT_FAILED, BOOT_OK, INSTALL_ATTEMPTS, user_data

CIDR = "10.0.0.0/16"

STUBS = {
    # dnf "installs" nftables by leaving a marker, so systemctl can refuse a unit that does not exist.
    "dnf": 'echo "dnf $*" >> "$CALLS"; [ -z "${FAIL_DNF:-}" ] || exit 1; touch "$STATE/nftables-installed"',
    "sysctl": 'echo "sysctl $*" >> "$CALLS"; [ -z "${FAIL_SYSCTL:-}" ] || exit 255',
    "nft": 'echo "nft $*" >> "$CALLS"; if [ "$1" = -c ] && [ -n "${FAIL_NFT_CHECK:-}" ]; then exit 1; fi',
    "systemctl": (
        'echo "systemctl $*" >> "$CALLS"; '
        '[ -e "$STATE/nftables-installed" ] || { echo "Unit nftables.service not found." >&2; exit 1; }'
    ),
    "ip": '[ -n "${NO_ROUTE:-}" ] || echo "default via 10.0.0.1 dev ens5 proto dhcp src 10.0.0.9 metric 512"',
    "sleep": 'echo "sleep $*" >> "$CALLS"',
    # Instance metadata: a token, then the instance's id and Region.
    "curl": (
        'case "$*" in *api/token*) echo TOKEN;; *instance-id*) echo i-0123456789abcdef0;; '
        "*placement/region*) echo eu-west-1;; *) exit 22;; esac"
    ),
    "aws": 'echo "aws $*" >> "$CALLS"; [ -z "${FAIL_AWS:-}" ] || exit 254',
}
TAG_CALL = "aws ec2 create-tags --region eu-west-1 --resources i-0123456789abcdef0 --tags Key=mapgate:natBoot,Value="


def run_script(tmp_path: Path, **failures: str) -> tuple[subprocess.CompletedProcess[str], list[str], Path]:
    root, bin_dir, state = tmp_path / "root", tmp_path / "bin", tmp_path / "state"
    for directory in (root / "etc" / "sysctl.d", root / "etc" / "sysconfig", bin_dir, state):
        directory.mkdir(parents=True)
    for name, body in STUBS.items():
        stub = bin_dir / name
        stub.write_text(f"#!/bin/bash\n{body}\n")
        stub.chmod(0o755)
    script = tmp_path / "user-data.sh"
    script.write_text(user_data(CIDR, root=str(root)))
    calls = tmp_path / "calls"
    calls.touch()
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "CALLS": str(calls),
        "STATE": str(state),
        **failures,
    }
    done = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, timeout=30, check=False)
    return done, calls.read_text().splitlines(), root


def test_a_good_boot_checks_the_ruleset_then_enables_it(tmp_path: Path) -> None:
    done, calls, root = run_script(tmp_path)
    assert done.returncode == 0, done.stderr
    ruleset = root / "etc" / "sysconfig" / "nftables.conf"
    sysctl_file = root / "etc" / "sysctl.d" / "90-mapgate-nat.conf"
    assert calls == [
        f"sysctl -p {sysctl_file}",
        "dnf install -y nftables",
        f"nft -c -f {ruleset}",
        "systemctl enable nftables",
        "systemctl restart nftables",
        "nft list table ip mapgate_nat",
    ]
    assert sysctl_file.read_text() == "net.ipv4.ip_forward = 1\n"
    assert f'ip saddr {CIDR} oifname "ens5" masquerade' in ruleset.read_text()
    assert done.stderr.strip().splitlines()[-1] == f"{BOOT_OK} {CIDR} through ens5"
    assert not any(call.startswith("aws") for call in calls)  # a good boot leaves the tags to Pulumi


@pytest.mark.parametrize(
    ("failure", "step", "last_call"),
    [
        ({"FAIL_SYSCTL": "1"}, "ip forwarding", "sysctl -p"),
        ({"FAIL_DNF": "1"}, "install nftables", "sleep 10"),
        ({"NO_ROUTE": "1"}, "find the uplink", "dnf install -y nftables"),
        ({"FAIL_NFT_CHECK": "1"}, "check the ruleset", "nft -c -f"),
    ],
    ids=["sysctl", "install", "no-uplink", "ruleset"],
)
def test_each_failed_step_stops_the_boot_non_zero_and_says_which(
    tmp_path: Path, failure: dict[str, str], step: str, last_call: str
) -> None:
    done, calls, _ = run_script(tmp_path, **failure)
    assert done.returncode != 0
    assert f"{BOOT_FAILED} at step '{step}'" in done.stderr.strip().splitlines()[-1]
    assert calls[-1] == f"{TAG_CALL}failed at {step}"  # the instance says so in its tags too
    assert calls[-2].startswith(last_call)
    assert not any(call.startswith("systemctl") for call in calls)  # never enables a missing or unchecked ruleset


def test_a_failed_install_is_retried_then_fails(tmp_path: Path) -> None:
    done, calls, _ = run_script(tmp_path, FAIL_DNF="1")
    assert done.returncode != 0
    assert calls.count("dnf install -y nftables") == INSTALL_ATTEMPTS


def test_a_boot_that_cannot_tag_itself_still_fails_and_says_so(tmp_path: Path) -> None:
    done, calls, _ = run_script(tmp_path, FAIL_DNF="1", FAIL_AWS="1")
    assert done.returncode == 1
    assert calls[-1] == f"{TAG_CALL}failed at install nftables"
    assert "could not tag the instance mapgate:natBoot" in done.stderr


def test_only_mapgates_own_sysctl_file_is_applied() -> None:
    script = user_data(CIDR)
    assert "sysctl -p /etc/sysctl.d/90-mapgate-nat.conf\n" in script
    assert "--system" not in script


def test_the_script_parses_and_passes_shellcheck(tmp_path: Path) -> None:
    script = tmp_path / "user-data.sh"
    script.write_text(user_data(CIDR))
    subprocess.run(["bash", "-n", str(script)], check=True)
    if shutil.which("shellcheck") is None:  # a developer's machine may lack it; CI (.ci/run installs it) must not
        if os.environ.get("CI"):
            pytest.fail("CI must install shellcheck (see .ci/run)")
        pytest.skip("shellcheck is not installed (apt-get install shellcheck)")
    checked = subprocess.run(["shellcheck", str(script)], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout
