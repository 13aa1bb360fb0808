"""The base of every mapgate component: its type token is `mapgate:<module>:<Class>`, from where it lives."""

from __future__ import annotations

from typing import ClassVar

import pulumi

from mapgate import PROJECT

_PACKAGE = f"{__package__}."


def type_token_for(cls: type) -> str:
    """`mapgate.components.network.firewall.Firewall` -> `mapgate:network:Firewall`."""
    module = cls.__module__.removeprefix(_PACKAGE).split(".")[0]
    return f"{PROJECT}:{module}:{cls.__name__}"


class Component(pulumi.ComponentResource):
    """A mapgate component. Subclasses call `super().__init__(name, opts)` and `register_outputs` last."""

    type_token: ClassVar[str]

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        cls.type_token = type_token_for(cls)

    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.type_token, name, None, opts)

    @property
    def child_opts(self) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self)
