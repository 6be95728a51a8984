"""The miss explainer's bounded memory keeps the prefix every request starts with.

Invariant: however many conversations an app runs past ``MissExplainer(max_prefixes=...)`` --
so the links of earlier conversations are forgotten -- a change inside the tool schemas or
system prompt the requests share is still located (cause, section and block), through a
real boto3 client against the emulator.
"""

from __future__ import annotations

from typing import Any

from bedrock_cache import BedrockCache, MissExplainer
from bedrock_cache.emulator import BedrockEmulator, ManualClock

SONNET = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
POLICY = "You are a support assistant, version 1. " + "Policy: be helpful and exact. " * 550
TOOLS = {
    "tools": [
        {
            "toolSpec": {
                "name": f"lookup_{n}",
                "description": f"Look up records of kind {n}.",
                "inputSchema": {"json": {"type": "object", "properties": {}}},
            }
        }
        for n in range(12)
    ]
}


def ask(client: Any, system: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
    response = client.converse(
        modelId=SONNET, system=[{"text": system}], messages=messages, toolConfig=TOOLS
    )
    report: dict[str, Any] = response["bedrockCache"]
    return report


def test_many_conversations_do_not_push_out_the_shared_prefix() -> None:
    memory = 40  # links; the tools and system take 13, each turn of a chat adds 2
    with BedrockEmulator(clock=ManualClock()) as emulator:
        explainer = MissExplainer(max_prefixes=memory)
        cache = BedrockCache(clock=emulator.clock.now, explainer=explainer)
        client = cache.instrument(emulator.client())
        for chat in range(memory):
            messages: list[dict[str, Any]] = []
            for turn in range(3):
                text = f"Chat {chat}, question {turn}?"
                messages.append({"role": "user", "content": [{"text": text}]})
                ask(client, POLICY, messages)
                messages.append({"role": "assistant", "content": [{"text": f"Answer {turn}."}]})
                emulator.clock.advance(10)
        edited = POLICY.replace("version 1", "version 2")  # a stale copy of the prompt, say
        question = [{"role": "user", "content": [{"text": "A new question?"}]}]
        miss = ask(client, edited, question)["miss"]
        assert miss is not None
        assert (miss["cause"], miss["section"], miss["block"]) == ("prefix_changed", "system", 0)
