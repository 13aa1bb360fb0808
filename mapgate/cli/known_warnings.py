"""Engine warnings the program is known to cause, each with what it means for the user.

Printed next to the warning by `mapgate plan` and after it in `mapgate up`/`preview`'s live output, and listed
in the README's troubleshooting table (a test ties the three).
"""

from __future__ import annotations

EXPLAINED = {
    # pulumi_aws marks servicediscovery ServiceHealthCheckCustomConfigArgs.failure_threshold deprecated and warns
    # whenever it is set (pulumi_aws/servicediscovery/_inputs.py). mapgate sets it on purpose in
    # components/discovery.py: without it the provider sends no custom health config at all
    # (https://github.com/hashicorp/terraform-provider-aws/issues/44285) and Cloud Map would answer with
    # unhealthy tasks.
    "failure_threshold is deprecated": (
        "expected: mapgate sets failure_threshold=1 on purpose. AWS ignores the value, but without it the "
        "provider creates no custom health config (terraform-provider-aws#44285) and Cloud Map would hand out "
        "unhealthy tasks"
    ),
}


def explain(warning: str) -> str | None:
    """What a known warning means, or None."""
    for marker, meaning in EXPLAINED.items():
        if marker in warning:
            return meaning
    return None
