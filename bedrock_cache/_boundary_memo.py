"""The boundaries ahead of a request's last message, carried over from an earlier request.

A chat re-sends its history every turn, so everything ahead of the newest message -- the tool
schemas, the system blocks, the sampled message ends -- gives the same boundaries as it did last
turn. They are kept by what fixes them: the model spec and the policy, the number of messages,
the last block ahead of the last message (its fingerprint covers every block before it, with the
message each belongs to), which message closes the conversation (the last, or the one before an
assistant prefill) and, on a model with a cache cap, whether the request is over it. Only the
closing message is looked at again. A head not seen before (a chat's next turn, one message pair
longer) takes the message ends it shares with earlier heads from those, by the fingerprint of
each message's last block, so only the messages it added are read for it.
"""

from __future__ import annotations

from ._boundaries import Boundary, Ends, Head, closing_message, head_of, keyed_boundaries
from ._layout import Layout
from ._models import ModelSpec
from ._policy import CachePolicy

_Key = tuple[str, int, int, str, bool, int]
#: Message ends kept (a few per conversation turn, for the turns of many conversations).
MAX_ENDS = 20_000


class BoundaryMemo:
    """Heads of recent requests (:class:`~bedrock_cache._boundaries.Head`), by what fixes them.
    Bounded (cleared when full); safe to share between threads (entries never change)."""

    def __init__(self, max_entries: int = 256) -> None:
        self.max_entries = max_entries
        self._heads: dict[_Key, tuple[ModelSpec, CachePolicy, Head]] = {}
        self._ends: Ends = {}
        """Message ends of earlier heads: a chat's next turn (one head more) rebuilds its head
        from them, reading only the messages it added."""

    def boundaries(
        self, layout: Layout, spec: ModelSpec, policy: CachePolicy
    ) -> tuple[list[Boundary], list[str]]:
        """:func:`~bedrock_cache._boundaries.keyed_boundaries` of ``layout``, with its head
        carried over when an earlier request had the same one."""
        count = layout.message_count
        if not count or not spec.supports_caching:
            return keyed_boundaries(layout, spec, policy)
        ahead = layout.message_starts[count - 1]
        anchor = layout.blocks[ahead - 1].fingerprint if ahead else ""
        capped = bool(spec.max_cached_tokens) and layout.total_tokens > spec.max_cached_tokens
        key = (spec.model_id, count, ahead, anchor, capped, closing_message(layout))
        kept = self._heads.get(key)
        if kept is not None and kept[0] is spec and kept[1] is policy:
            head = kept[2]
        else:
            if len(self._ends) >= MAX_ENDS:
                self._ends = {}
            head = head_of(layout, spec, policy, self._ends)
            if len(self._heads) >= self.max_entries:
                self._heads = {}
            self._heads[key] = (spec, policy, head)
        return keyed_boundaries(layout, spec, policy, head=head)
