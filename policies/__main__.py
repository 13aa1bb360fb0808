"""`pulumi preview --policy-pack policies`: mapgate's guardrails (see mapgate_policies.RULES and the README)."""

from pulumi_policy import PolicyPack

from mapgate_policies import policies

PolicyPack(name="mapgate", policies=policies())
