"""A frozen dataclass built in one step.

``@dataclass(frozen=True)`` makes an ``__init__`` that sets each field through
``object.__setattr__`` (the class's own ``__setattr__`` refuses). For the few built on every
planned call that is most of their cost. :func:`one_step_init` gives such a class an ``__init__``
with the same signature that sets the new instance's ``__dict__`` at once: fields, defaults,
equality, hash, repr and immutability stay the dataclass's own. :func:`replaced` is
``dataclasses.replace`` the same way.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

T = TypeVar("T")


def one_step_init(cls: type[T]) -> type[T]:
    """Replace a frozen dataclass's ``__init__`` (apply above ``@dataclass(frozen=True)``).

    Only for plain fields: no ``default_factory``, no ``init=False``, no ``__post_init__``.
    """
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or hasattr(cls, "__slots__"):
        raise TypeError(f"{cls.__name__} must be a frozen dataclass without slots")
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__} has __post_init__, which one_step_init would skip")
    names: list[str] = []
    signature: list[str] = []
    defaults: dict[str, Any] = {}
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        if not field.init or field.default_factory is not dataclasses.MISSING:
            raise TypeError(f"{cls.__name__}.{field.name}: only plain fields are supported")
        names.append(field.name)
        if field.default is dataclasses.MISSING:
            signature.append(field.name)
        else:
            defaults[f"_default_{field.name}"] = field.default
            signature.append(f"{field.name}=_default_{field.name}")
    values = ", ".join(f"{name!r}: {name}" for name in names)
    source = (
        f"def __init__(self, {', '.join(signature)}):\n"
        f"    _set_dict(self, '__dict__', {{{values}}})\n"
    )
    namespace: dict[str, Any] = {"_set_dict": _set_dict, **defaults}
    exec(source, namespace)  # as dataclasses itself builds __init__: one function per class
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__
    cls.__init__ = init  # type: ignore[method-assign]
    return cls


_new = object.__new__
_set_dict = object.__setattr__


def replaced(instance: T, **changes: Any) -> T:
    """``dataclasses.replace(instance, **changes)`` for such a class, in one step: the fields not
    changed come with the instance's ``__dict__`` instead of through ``__init__`` one by one."""
    made: T = _new(type(instance))
    _set_dict(made, "__dict__", {**instance.__dict__, **changes})
    return made
