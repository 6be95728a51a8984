"""The model id and text-only messages judged as botocore's validator judges them, quickly.

Most messages a chat sends are a role and a list of text blocks. botocore's validator walks the
Converse model's shapes for every one of them (and the request around them), which costs as much
as all the planning of a short request. For this one form its verdict comes down to a few type
and length checks, read here from the same shapes (required members, ``min`` lengths, the content
block being a tagged union), so the answer is the same. A message of any other form, or an
operation whose shapes differ from what these checks assume, is left to botocore.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.utils import is_json_value_header

from ._by_identity import ByIdentity


@dataclass(frozen=True)
class TextOnly:
    """What botocore requires of the model id (the one required parameter) and of a message
    made of a role and text blocks only."""

    model_min: int
    keys: frozenset[str]
    """The message's keys: exactly the required members, ``role`` and ``content``."""
    list_min: int
    role_min: int
    content_min: int
    text_min: int

    @classmethod
    def of(cls, operation: Any) -> TextOnly | None:
        """For ``operation`` (a botocore operation model); ``None`` if its shapes differ from
        the Converse form these checks mirror (then botocore validates every message)."""
        return _read_once(operation)

    def valid_model_id(self, rest: Mapping[str, Any]) -> bool:
        """``rest``, what is left of a request once its parameters known valid are taken out,
        is a model id that passes."""
        if rest.keys() != {"modelId"}:
            return False
        model_id = rest["modelId"]
        return type(model_id) is str and len(model_id) >= self.model_min

    def valid(self, messages: Sequence[Any], start: int) -> bool:
        """botocore finds no error in the list ``messages`` nor in its messages from ``start``
        on; ``False`` when it would, or when one of them is not of the text-only form."""
        if type(messages) is not list or len(messages) < self.list_min:
            return False
        for index in range(start, len(messages)):
            message = messages[index]
            if type(message) is not dict or message.keys() != self.keys:
                return False
            role, content = message["role"], message["content"]
            if type(role) is not str or len(role) < self.role_min:
                return False
            if type(content) is not list or len(content) < self.content_min:
                return False
            for block in content:
                if type(block) is not dict or len(block) != 1:
                    return False
                text = block.get("text")
                if type(text) is not str or len(text) < self.text_min:
                    return False
        return True


def _read(operation: Any) -> TextOnly | None:
    try:
        request = operation.input_shape
        model_id = request.members["modelId"]
        messages = request.members["messages"]
        message = messages.member
        role, content = message.members["role"], message.members["content"]
        block = content.member
        text = block.members["text"]
    except (AttributeError, KeyError, TypeError):
        return None
    keys = frozenset(message.required_members)
    plain = (
        _structure(request)
        and not request.is_tagged_union
        and set(request.required_members) == {"modelId"}
        and _string(model_id)
        and messages.type_name == "list"
        and _structure(message)
        and not message.is_tagged_union
        and keys == {"role", "content"}
        and _string(role)
        and content.type_name == "list"
        and _structure(block)
        and block.is_tagged_union  # one key per block, as a text block has
        and set(block.required_members) <= {"text"}
        and _string(text)
    )
    if not plain:
        return None
    lengths = (_min(messages), _min(role), _min(content), _min(text))
    return TextOnly(_min(model_id), keys, *lengths)


#: Operation models whose messages shapes were read (kept while the model is the one in use).
_read_once: ByIdentity[Any, TextOnly | None] = ByIdentity(_read, limit=64)


def _structure(shape: Any) -> bool:
    return bool(shape.type_name == "structure" and not shape.is_document_type)


def _string(shape: Any) -> bool:
    return bool(shape.type_name == "string" and not is_json_value_header(shape))


def _min(shape: Any) -> int:
    """The length botocore's ``range_check`` requires of a string or list of this shape."""
    if "min" in shape.metadata:
        return int(shape.metadata["min"])
    serialization = getattr(shape, "serialization", None) or {}
    return 1 if serialization.get("hostLabel") else 0
