"""`pulumi preview --policy-pack policies`: mapgate's guardrails (see mapgate_policies.RULES and the README)."""

from mapgate_policies import policies
from pulumi_policy import PolicyPack

PolicyPack(name="mapgate", policies=policies())
