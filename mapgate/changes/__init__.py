"""What a change between two plans does to the running stack: which resources a real `pulumi up` replaces (and
why), what it updates in place, which replacements would collide, and what users see meanwhile.

The replacement rules are data generated from the provider source (`facts`, mapgate/data/replacement_facts.json);
`diff` applies them to two `mapgate plan --json` documents; `impact` says what each replacement costs users and
which ones `up` must ask about first.
"""
