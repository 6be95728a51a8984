"""What the installed botocore can send: its bedrock-runtime model, not its version number."""

from __future__ import annotations

import functools
import logging

logger = logging.getLogger("bedrock_cache")


@functools.cache
def sends_ttl() -> bool:
    """The installed botocore knows ``CachePointBlock.ttl`` (1.43 and later).

    Older ones reject a ``ttl`` key client-side, before anything is sent (BEDROCK.md section 8),
    so with them no checkpoint may carry one, and 1h entries are unavailable.
    """
    try:
        import botocore.session

        model = botocore.session.get_session().get_service_model("bedrock-runtime")
        known = "ttl" in model.shape_for("CachePointBlock").members
    except Exception:  # an unreadable model: assume a current botocore
        return True
    if not known:
        logger.warning(
            "bedrock_cache: this botocore cannot send a cachePoint ttl, so 1h cache entries are "
            "off; upgrade botocore to 1.43 or later to use them"
        )
    return known
