"""A NAT instance: one small EC2 instance that forwards a VPC's private subnets to the internet.

awsx's `Vpc` cannot build one (its NAT strategies are managed NAT gateways only), which is one reason the network
is built from `pulumi_aws.ec2` resources. It costs a fraction of a NAT gateway (no per-GB processing charge) at
the price of being one instance: see the README's cost section for when each wins.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_aws import ec2, iam, vpc

from mapgate import aws_facts, naming

# What the first boot prints last, on the instance's console (`aws ec2 get-console-output --latest`).
BOOT_OK = "mapgate-nat: forwarding"
BOOT_FAILED = "mapgate-nat: FAILED"
INSTALL_ATTEMPTS = 5


# Instance metadata (IMDSv2: a token first), where a failed boot finds its own id and Region to tag itself.
IMDS = "http://169.254.169.254/latest"


def user_data(vpc_cidr: str, root: str = "") -> str:
    """First-boot script: forward IPv4 and masquerade what comes from the VPC, both kept across reboots.

    nftables is installed from the Amazon Linux repositories over the instance's own public IP, which is why
    the instance gets its public IPv4 at launch (an Elastic IP associated afterwards would race this script).

    It fails loudly: any failed step (the sysctl, the install after its retries, the ruleset check `nft -c`, the
    service) stops it with a non-zero exit, before the next step, and its last line on the console says which step
    failed, and it tags the instance `mapgate:natBoot: failed at <step>` (visible in the EC2 console and to
    `aws ec2 describe-tags`); a good boot ends with a line that says what it forwards, and sets no tag (Pulumi owns
    the instance's tags). It applies only its own sysctl file, so an unrelated key elsewhere cannot fail it. `root`
    prefixes the files it writes (tests run it in a directory).
    """
    sysctl_file = f"{root}/etc/sysctl.d/90-mapgate-nat.conf"
    ruleset = f"{root}/etc/sysconfig/nftables.conf"
    return f"""#!/bin/bash
# mapgate NAT instance, first boot. See mapgate/components/network/nat.py.
set -euo pipefail
step="start"
say() {{
  echo "$1" >&2
  {{ echo "$1" >/dev/console; }} 2>/dev/null || true
}}
tag_failure() {{
  token=$(curl -sf -X PUT "{IMDS}/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 300") || return 0
  id=$(curl -sf -H "X-aws-ec2-metadata-token: $token" "{IMDS}/meta-data/instance-id") || return 0
  region=$(curl -sf -H "X-aws-ec2-metadata-token: $token" "{IMDS}/meta-data/placement/region") || return 0
  aws ec2 create-tags --region "$region" --resources "$id" --tags "Key={naming.NAT_BOOT_TAG},Value=failed at $step" \
    || say "could not tag the instance {naming.NAT_BOOT_TAG}"
}}
finish() {{
  status=$?
  if [ "$status" -ne 0 ]; then
    say "{BOOT_FAILED} at step '$step' (exit $status): the NAT does not forward; see /var/log/cloud-init-output.log"
    tag_failure
  fi
}}
trap finish EXIT

step="ip forwarding"
cat > {sysctl_file} <<'SYSCTL'
net.ipv4.ip_forward = 1
SYSCTL
sysctl -p {sysctl_file}

step="install nftables"
installed=no
for attempt in $(seq 1 {INSTALL_ATTEMPTS}); do
  if dnf install -y nftables; then
    installed=yes
    break
  fi
  echo "dnf install nftables failed (attempt $attempt of {INSTALL_ATTEMPTS})" >&2
  sleep 10
done
[ "$installed" = yes ]

step="find the uplink"
uplink=$(ip -4 route show default | awk '{{print $5; exit}}')
[ -n "$uplink" ]

step="check the ruleset"
cat > {ruleset} <<NFT
table ip mapgate_nat {{
  chain postrouting {{
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr {vpc_cidr} oifname "$uplink" masquerade
  }}
}}
NFT
nft -c -f {ruleset}

step="enable nftables"
systemctl enable nftables
systemctl restart nftables
nft list table ip mapgate_nat >/dev/null
say "{BOOT_OK} {vpc_cidr} through $uplink"
"""


def boot_tag_policy_document(partition: str, stack: str) -> dict[str, object]:
    """What the NAT instance's role may do besides Session Manager: set `NAT_BOOT_TAG` on a NAT instance of its
    stack, and nothing else."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "ec2:CreateTags",
                "Resource": f"arn:{partition}:ec2:*:*:instance/*",
                "Condition": {
                    "StringEquals": {
                        f"aws:ResourceTag/{naming.ROLE_TAG}": naming.NAT_INSTANCE_ROLE,
                        f"aws:ResourceTag/{naming.STACK_TAG}": stack,
                    },
                    "ForAllValues:StringEquals": {"aws:TagKeys": [naming.NAT_BOOT_TAG]},
                },
            }
        ],
    }


@dataclass(frozen=True)
class NatInstanceArgs:
    vpc_id: pulumi.Input[str]
    vpc_cidr: str
    """The only source its security group admits, and the only source it masquerades."""
    subnet_id: pulumi.Input[str]
    """A public subnet (its route table sends 0.0.0.0/0 to the internet gateway)."""
    instance_type: str
    ami_id: str
    """The current Amazon Linux 2023 arm64 AMI, looked up by SSM parameter before anything is created."""
    partition: str
    tags: Mapping[str, str]


def nat_instance(name: str, args: NatInstanceArgs, opts: pulumi.ResourceOptions) -> ec2.Instance:
    """One EC2 NAT instance, its security group, role and instance profile, as children named `<name>-…`.

    The Network component calls this (`opts` parents them to it): one component per concept, and the NAT is
    part of the network. What it creates:

    - a security group admitting all traffic from the VPC CIDR only (nothing from the internet, no SSH rule),
      with egress to anywhere;
    - an IAM role for EC2 with `AmazonSSMManagedInstanceCore` (Session Manager is the way in: there is no key
      pair) and an inline policy that lets a failed boot tag its instance (`boot_tag_policy_document`), and its
      instance profile;
    - the instance: source/dest check off (it forwards others' packets), IMDSv2 required, a public IPv4 from
      launch, an encrypted gp3 root volume, and the user data of `user_data`. Private route tables send
      `0.0.0.0/0` to its primary network interface.

    Recovery: EC2's automatic recovery (`maintenanceOptions.autoRecovery: default`, supported on T4g and the
    other Graviton types) moves the instance to healthy hardware when its system status check fails, keeping
    the instance id, the network interface and both IP addresses, so the routes stay valid and nothing is
    re-created. An auto-scaling group of one would also replace a broken OS, but its new instance has a new
    network interface: the routes would need a fixed second interface that user data attaches, with IAM rights
    to do so, which is more moving parts than a dev-sized NAT is worth.
    https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instance-configuration-recovery.html
    """
    children = naming.NatInstanceChildren(name)
    tags = {**args.tags, naming.ROLE_TAG: naming.NAT_INSTANCE_ROLE}

    group = ec2.SecurityGroup(
        children.security_group,
        vpc_id=args.vpc_id,
        description="mapgate NAT instance: forwards the VPC's traffic, admits nothing from outside it",
        tags={**tags, "Name": children.security_group},
        opts=opts,
    )
    vpc.SecurityGroupIngressRule(
        children.from_vpc,
        security_group_id=group.id,
        ip_protocol="-1",
        cidr_ipv4=args.vpc_cidr,
        description="everything the VPC sends to the internet",
        tags=tags,
        opts=opts,
    )
    vpc.SecurityGroupEgressRule(
        children.egress,
        security_group_id=group.id,
        ip_protocol="-1",
        cidr_ipv4=aws_facts.ANYWHERE_V4,
        description="forwarded traffic, and the instance's own package and SSM traffic",
        tags=tags,
        opts=opts,
    )
    role = iam.Role(
        children.role,
        assume_role_policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ],
            }
        ),
        description="mapgate NAT instance: Session Manager, and tagging itself after a failed boot",
        tags=tags,
        opts=opts,
    )
    iam.RolePolicyAttachment(
        children.ssm_policy,
        role=role.name,
        policy_arn=f"arn:{args.partition}:iam::aws:policy/{aws_facts.SSM_MANAGED_INSTANCE_POLICY}",
        opts=opts,
    )
    # A failed first boot tags its own instance (see `user_data`): only that tag key, only on this stack's NAT
    # instances (condition keys aws:TagKeys and aws:ResourceTag, which CreateTags supports on instances).
    boot_tag_policy = iam.RolePolicy(
        children.boot_tag_policy,
        role=role.id,
        policy=json.dumps(boot_tag_policy_document(args.partition, args.tags.get(naming.STACK_TAG, ""))),
        opts=opts,
    )
    profile = iam.InstanceProfile(children.profile, role=role.name, tags=tags, opts=opts)
    return ec2.Instance(
        children.instance,
        ami=args.ami_id,
        instance_type=args.instance_type,
        subnet_id=args.subnet_id,
        vpc_security_group_ids=[group.id],
        associate_public_ip_address=True,
        source_dest_check=False,
        iam_instance_profile=profile.name,
        metadata_options=ec2.InstanceMetadataOptionsArgs(
            http_endpoint="enabled", http_tokens="required", http_put_response_hop_limit=1
        ),
        maintenance_options=ec2.InstanceMaintenanceOptionsArgs(auto_recovery="default"),
        root_block_device=ec2.InstanceRootBlockDeviceArgs(
            volume_type="gp3", volume_size=aws_facts.AL2023_ROOT_VOLUME_GIB, encrypted=True
        ),
        user_data=user_data(args.vpc_cidr),
        user_data_replace_on_change=True,
        tags={**tags, "Name": name},
        # A newer AMI behind the SSM parameter must not replace a running NAT on every `up`. The boot may tag the
        # instance only once its role may.
        opts=pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(ignore_changes=["ami"], depends_on=[boot_tag_policy])
        ),
    )
