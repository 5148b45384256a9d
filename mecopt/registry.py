"""Name-to-object registries for the strategy objects that vary (queue models, channels,
accuracy curves, solvers, scenarios).

A registry validates a name up front and, for an unknown one, raises an error listing the
valid names, so a typo fails at once instead of deep inside a run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from mecopt.errors import UnknownNameError

T = TypeVar("T")


class Registry(Generic[T]):
    """A mapping from names to strategy objects of one kind.

    Parameters
    ----------
    kind
        What the registry holds, used in error messages ("queue model", "solver", ...).
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str, item: T) -> T:
        """Register ``item`` under ``name`` and return it; a name can be taken once only."""
        if name in self._items:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._items[name] = item
        return item

    def add(self, name: str) -> Callable[[T], T]:
        """Decorator form of :meth:`register`."""

        def deco(item: T) -> T:
            return self.register(name, item)

        return deco

    def get(self, name: str) -> T:
        """Return the object registered under ``name``.

        Raises
        ------
        UnknownNameError
            If ``name`` is not registered; the message lists the valid names.
        """
        try:
            return self._items[name]
        except (KeyError, TypeError):
            valid = ", ".join(repr(n) for n in self._items)
            raise UnknownNameError(
                f"unknown {self.kind} {name!r}; valid names: {valid}"
            ) from None

    def validate(self, name: str) -> str:
        """Return ``name`` if registered, else raise :class:`UnknownNameError`."""
        self.get(name)
        return name

    def names(self) -> list[str]:
        """The registered names, in registration order."""
        return list(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)
