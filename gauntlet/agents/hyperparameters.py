"""The hyperparameters an agent factory accepts, checked before the agent is built.

A misspelt hyperparameter then gets a ``ValueError`` that lists the accepted names, instead of a
``TypeError`` from deep inside a constructor. Factories are called as
``factory(env, seed=..., **hyperparameters)`` (see :mod:`gauntlet.agents`).
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Mapping, Sequence

SET_BY_CALLER = ("env", "seed")
"""Arguments the runner passes itself: never hyperparameters."""

_NAMED = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def hyperparameter_names(factory: Callable[..., Any], exclude: Sequence[str] = SET_BY_CALLER) -> list[str] | None:
    """The keyword arguments ``factory`` accepts, in signature order, without ``exclude`` and
    private (``_``-prefixed) ones.

    A class's ``**kwargs`` are followed into the ``__init__`` of its bases, where they go through
    ``super().__init__``. A function that takes ``**kwargs`` forwards them to something this cannot
    see, so the answer is ``None`` and the function checks them itself (as
    :func:`gauntlet.agents.sb3.make_ppo` does).
    """
    names: list[str] = []
    if inspect.isclass(factory):
        for klass in factory.__mro__:
            if klass is object:
                break
            if "__init__" not in vars(klass):
                continue
            params = list(inspect.signature(klass.__init__).parameters.values())[1:]
            names += [p.name for p in params if p.kind in _NAMED]
            if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
                break
    else:
        params = list(inspect.signature(factory).parameters.values())
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
            return None
        names = [p.name for p in params if p.kind in _NAMED]
    return [n for n in dict.fromkeys(names) if n not in exclude and not n.startswith("_")]


def check_hyperparameters(what: str, hyperparameters: Mapping[str, Any], accepted: Sequence[str] | None) -> None:
    """Raise a ``ValueError`` naming ``what``, the unknown names and the ``accepted`` ones
    (``None``: the factory checks them itself)."""
    reserved = [name for name in SET_BY_CALLER if name in hyperparameters]
    if reserved:
        raise ValueError(f"{what}: {reserved} cannot be given as hyperparameters (the runner passes the env and "
                         "the training seed); remove them")
    if accepted is None:
        return
    unknown = sorted(set(hyperparameters) - set(accepted))
    if unknown:
        raise ValueError(f"{what}: unknown hyperparameter(s) {unknown}; accepted: {', '.join(accepted) or 'none'}")
