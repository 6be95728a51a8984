"""Our checkpoints never change what botocore says about the caller's own request.

botocore validates the request as sent, and its errors name the parameters by index. A planned
request is the caller's with cachePoint blocks (valid ones) inserted, each right after one of
the caller's blocks, and only the containers on the way to such a list copied. So botocore's
verdict, and every index its errors name, stay the caller's own as long as the caller's blocks
that move (those after an inserted block in the same list) are valid, and every container that
was copied is of a type botocore accepts as it is (a copy would turn, say, a custom mapping
into the dict it requires). :func:`keeps_verdict` checks exactly that, in time proportional to
the blocks that move: none when a checkpoint closes its list, as most do. Nothing else of the
request needs judging before it is sent: botocore judges it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from botocore.validate import ParamValidator

from ._by_identity import ByIdentity
from ._plan import Plan

#: botocore's validator keeps no state between calls.
_VALIDATOR = ParamValidator()
_LISTS = (list, tuple)


class _Members(NamedTuple):
    """The shapes of one item of each list a checkpoint may be inserted into."""

    tool: Any
    system: Any
    content: Any


def keeps_verdict(
    request: Mapping[str, Any], planned: Mapping[str, Any], plan: Plan, operation: Any
) -> bool:
    """``planned`` (``request`` with ``plan``'s checkpoints) gets botocore's verdict on
    ``request`` for ``operation`` (a botocore operation model), errors named alike."""
    members = _members(operation)
    if members is None:
        return False
    lists = {(cp.section, cp.message) for cp in plan.checkpoints}
    for section, message in lists:
        if section == "tools":
            config = request.get("toolConfig")
            if not isinstance(config, dict):
                return False
            own, sent, shape = config.get("tools"), planned["toolConfig"]["tools"], members.tool
        elif section == "system":
            own, sent, shape = request.get("system"), planned["system"], members.system
        else:
            messages = request.get("messages")
            if not isinstance(messages, _LISTS) or not isinstance(messages[message], dict):
                return False
            own = messages[message].get("content")
            sent, shape = planned["messages"][message]["content"], members.content
        if not isinstance(own, _LISTS):
            return False
        for block in _moved(own, sent):
            if _VALIDATOR.validate(block, shape).has_errors():
                return False
    return True


def _moved(own: Sequence[Any], sent: Sequence[Any]) -> Sequence[Any]:
    """The caller's items that ``sent`` (``own`` with blocks inserted) holds at other indexes:
    those after the first inserted block. Usually none: the one insertion closes the list."""
    if len(sent) - len(own) > 1:  # several inserted: from the first one on, found from the start
        first = next((n for n, item in enumerate(own) if sent[n] is not item), len(own))
        return own[first:]
    trailing = 0  # one inserted: the items after it are still the list's last ones
    while trailing < len(own) and sent[-1 - trailing] is own[-1 - trailing]:
        trailing += 1
    return own[len(own) - trailing :]


def invalid(request: Mapping[str, Any], operation: Any) -> bool:
    """botocore's validator rejects ``request`` for ``operation``."""
    return bool(_VALIDATOR.validate(request, operation.input_shape).has_errors())


def _read_members(operation: Any) -> _Members | None:
    try:
        request = operation.input_shape.members
        tool = request["toolConfig"].members["tools"].member
        system = request["system"].member
        content = request["messages"].member.members["content"].member
    except (AttributeError, KeyError):  # an operation shaped unlike Converse: never planned
        return None
    return _Members(tool, system, content)


#: Operation models whose list members were read (kept while the model is the one in use).
_members: ByIdentity[Any, _Members | None] = ByIdentity(_read_members, limit=64)
