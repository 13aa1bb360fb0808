"""Which AWS Regions exist, as botocore's partition data lists them (botocore/data/partitions.json).

botocore is the external truth here: AWS ships it with every new Region, and `mapgate plan` already installs it.
mapgate's own tables (VPC link zones, prices) cover fewer Regions; a Region they lack is only an advisory.
"""

from __future__ import annotations

import difflib
import functools


@functools.cache
def known_regions() -> tuple[str, ...]:
    """Every Region of every partition (aws, aws-cn, aws-us-gov, …), without pseudo-regions such as aws-global."""
    from botocore.loaders import Loader

    partitions = Loader().load_data("partitions")["partitions"]
    return tuple(
        sorted(region for partition in partitions for region in partition["regions"] if not region.endswith("-global"))
    )


def unknown_region(region: str) -> str | None:
    """Why `region` cannot be deployed to, naming the Regions there are; None if it is a Region."""
    regions = known_regions()
    if region in regions:
        return None
    close = difflib.get_close_matches(region, regions, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"aws:region: {region!r} — no such AWS Region; {hint}regions: {', '.join(regions)}"
