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
    ("network",): (_MAP,),
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


def check_service(doc: Document) -> None:
    """Raise the first key Copilot would refuse, as `file:line:column`."""
    roots: list[KeyPath] = [()]
    environments = doc.data.get("environments")
    if isinstance(environments, dict):
        for env, body in environments.items():
            if (
                body is not None
                and not (isinstance(body, Scalar) and body.kind == "null")
                and not isinstance(body, dict)
            ):
                raise doc.error(("environments", env), f"environments.{env} must be a mapping of overrides")
            roots.append(("environments", env))
    for root in roots:
        base = _get(doc.data, root)
        for path, shapes in SERVICE_SHAPES.items():
            node = _get(base, path)
            if node is None or _shape(node) == "null":
                continue
            shape = _shape(node)
            allowed = {"str": ("str", "int", "float", "bool")}  # go-yaml decodes any scalar into a string
            ok = shape in shapes or any(shape in allowed.get(s, ()) for s in shapes)
            if not ok:
                wanted = " or ".join({"int": "a whole number", "str": "a string"}.get(s, s) for s in shapes)
                raise doc.error(
                    (*root, *path), f"{'.'.join((*root, *path))} must be {wanted}: Copilot rejects this manifest"
                )
        image = _get(base, ("image",))
        if isinstance(image, dict) and "build" in image and "location" in image:
            raise doc.error(
                (*root, "image", "location"),
                "image.build and image.location are both set: Copilot rejects this manifest (it needs one of them)",
            )
