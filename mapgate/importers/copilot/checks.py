"""Keys Copilot itself rejects: a known key whose value has the wrong shape (go-yaml cannot decode it), or
`image.build` together with `image.location`. Unknown keys are not rejected: Copilot ignores them, and so the
report lists them as not supported."""

from __future__ import annotations

from typing import Any

from mapgate.importers.copilot.yaml12 import Document, KeyPath, Scalar

_SCALAR, _MAP, _LIST = "a value", "a mapping", "a list"
SERVICE_SHAPES: dict[KeyPath, tuple[str, ...]] = {
    ("name",): ("str",),
    ("type",): ("str",),
    ("cpu",): ("int",),
    ("memory",): ("int",),
    ("count",): ("int", _MAP),
    ("image",): (_MAP,),
    ("image", "port"): ("int",),
    ("image", "location"): ("str",),
    ("image", "build"): ("str", _MAP),
    ("variables",): (_MAP,),
    ("secrets",): (_MAP,),
    ("environments",): (_MAP,),
    ("command",): ("str", _LIST),
    ("entrypoint",): ("str", _LIST),
    ("platform",): ("str", _MAP),
    ("http", "path"): ("str",),
    ("http",): (_MAP, "bool"),
    ("http", "alias"): ("str", _LIST, _MAP),
    ("http", "healthcheck"): ("str", _MAP),
    ("image", "healthcheck"): (_MAP,),
    ("image", "healthcheck", "command"): ("str", _LIST),
    ("image", "build", "args"): (_MAP,),
    ("count", "range"): ("str", _MAP),
    ("network",): (_MAP,),
    ("network", "vpc"): (_MAP,),
    ("sidecars",): (_MAP,),
    ("storage",): (_MAP,),
    ("logging",): (_MAP,),
    ("env_file",): ("str",),
}
ENVIRONMENT_SHAPES: dict[KeyPath, tuple[str, ...]] = {
    ("name",): ("str",),
    ("network",): (_MAP,),
    ("network", "vpc"): (_MAP,),
    ("network", "vpc", "subnets"): (_MAP,),
    ("network", "vpc", "subnets", "public"): (_LIST,),
    ("network", "vpc", "subnets", "private"): (_LIST,),
    ("http",): (_MAP,),
    ("http", "public"): (_MAP,),
    ("http", "public", "certificates"): (_LIST,),
    ("observability",): (_MAP,),
    ("observability", "container_insights"): ("bool", "str"),
}


def _shape(node: Any) -> str:
    if isinstance(node, dict):
        return _MAP
    if isinstance(node, list):
        return _LIST
    if isinstance(node, Scalar):
        return node.kind
    return "null"


def _get(data: Any, path: KeyPath) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


_SCALARS = ("str", "int", "float", "bool")
_WORDS = {"int": "a whole number", "str": "a string", "bool": "true or false"}


def _check_shapes(doc: Document, root: KeyPath, shapes_by_path: dict[KeyPath, tuple[str, ...]]) -> None:
    base = _get(doc.data, root)
    for path, shapes in shapes_by_path.items():
        node = _get(base, path)
        if node is None or _shape(node) == "null":
            continue
        shape = _shape(node)
        if shape in shapes or ("str" in shapes and shape in _SCALARS):  # go-yaml decodes any scalar into a string
            continue
        wanted = " or ".join(_WORDS.get(s, s) for s in shapes)
        key = ".".join((*root, *path))
        raise doc.error((*root, *path), f"{key} must be {wanted}: Copilot rejects this manifest")


def check_environment(doc: Document) -> None:
    """Raise the first key of an environment manifest Copilot would refuse."""
    _check_shapes(doc, (), ENVIRONMENT_SHAPES)


def check_service(doc: Document) -> None:
    """Raise the first key Copilot would refuse, as `file:line:column`."""
    roots: list[KeyPath] = [()]
    environments = doc.data.get("environments")
    if _shape(environments) not in ("null", _MAP):
        raise doc.error(("environments",), "environments must be a mapping of environment names")
    for env, body in (environments if isinstance(environments, dict) else {}).items():
        if _shape(body) not in ("null", _MAP):
            raise doc.error(("environments", env), f"environments.{env} must be a mapping of overrides")
        roots.append(("environments", env))
    for root in roots:
        _check_shapes(doc, root, SERVICE_SHAPES)
        image = _get(_get(doc.data, root), ("image",))
        if isinstance(image, dict) and "build" in image and "location" in image:
            raise doc.error(
                (*root, "image", "location"),
                "image.build and image.location are both set: Copilot rejects this manifest (it needs one of them)",
            )
