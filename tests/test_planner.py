"""The planner spends checkpoints where the traffic it has seen says they will be read: only where
Bedrock accepts them and they create entries, never writing what is not expected to pay.

Requests go through ``BedrockCache.prepare`` on a simulated clock (the plan, no network); the
end-to-end twin through boto3 and the emulator is tests/test_instrumented_client.py.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from bedrock_cache import (
    BedrockCache,
    CachePolicy,
    InProcessStore,
    Layout,
    Plan,
    cache_point,
    plan_checkpoints,
    resolve_model,
)

SONNET = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
SONNET_4 = "anthropic.claude-sonnet-4-20250514-v1:0"
HAIKU = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
NOVA = "amazon.nova-pro-v1:0"


def text(tokens: int, seed: str = "x") -> dict[str, Any]:
    return {"text": (seed * tokens * 4)[: tokens * 4]}


def request(
    model: str, system: int, *turns: list[dict[str, Any]], tools: int = 0, seed: str = "s"
) -> dict[str, Any]:
    messages = [
        {"role": "user" if i % 2 == 0 else "assistant", "content": content}
        for i, content in enumerate(turns)
    ]
    req: dict[str, Any] = {"modelId": model, "messages": messages}
    if system:
        req["system"] = [text(system, seed)]
    if tools:
        spec = {"name": "lookup", "description": "d" * tools * 4, "inputSchema": {"json": {}}}
        req["toolConfig"] = {"tools": [{"toolSpec": spec}]}
    return req


class Traffic:
    """One BedrockCache on a simulated clock: send requests, look at their plans."""

    def __init__(self, policy: CachePolicy | None = None, **kwargs: Any) -> None:
        self.now = 0.0
        self.cache = BedrockCache(policy, clock=lambda: self.now, **kwargs)

    def send(self, req: dict[str, Any], after: float = 30.0) -> Plan:
        self.now += after
        return self.cache.prepare(req).plan


def roles(plan: Plan) -> list[str]:
    return [cp.role for cp in plan.checkpoints]


def test_prefix_below_the_minimum_gets_no_checkpoint_and_says_why() -> None:
    result = Traffic().send(request(SONNET, 300, [text(50)]))
    assert result.checkpoints == ()
    assert any("below" in reason for reason in result.skipped)


def test_a_first_request_risks_one_write_on_the_system_prompt_only() -> None:
    traffic = Traffic()
    assert roles(traffic.send(request(SONNET, 4000, [text(50, "q1")]))) == ["system"]
    # The second reads it; its own end is written once in case a conversation follows.
    assert roles(traffic.send(request(SONNET, 4000, [text(50, "q2")]))) == ["conversation"]
    assert roles(traffic.send(request(SONNET, 4000, [text(50, "q3")]))) == ["bridge"]
    # A prompt with nothing like it seen before is not written: it may never come back.
    assert roles(traffic.send(request(SONNET, 0, [text(3000, "q")]))) == []


def test_a_system_block_that_changes_every_time_never_holds_the_static_checkpoint() -> None:
    traffic = Traffic()
    placed: list[int] = []
    for minute in range(4):
        stamp = {"text": f"Current time: 10:{minute:02d}"}
        turns: list[list[dict[str, Any]]] = [[text(50, f"q{minute}")]]
        for turn in range(3):
            req = request(SONNET, 3000, *turns)
            req["system"].append(stamp)
            placed += [cp.after for cp in traffic.send(req, after=20).checkpoints]
            turns += [[text(100, f"a{minute}.{turn}")], [text(60, f"q{minute}.{turn}")]]
    # the instructions (block 0) get the checkpoint; the timestamp after them (block 1) never
    assert 0 in placed and 1 not in placed


def test_instructions_after_a_timestamp_are_written_the_first_time() -> None:
    """The current time as the first system block, the instructions after it: the requests of
    the same minute re-send both, so the first request writes them as a prompt without the
    timestamp would be written."""
    req = request(SONNET, 3000, [text(150, "q")])
    req["system"].insert(0, {"text": "Current time: 10:00"})
    plan = Traffic().send(req)
    assert [(cp.role, cp.after) for cp in plan.checkpoints] == [("system", 1)]


def test_a_document_loaded_into_the_system_prompt_is_written_as_its_own_gaps_say(
    client_sends_ttl: bool,
) -> None:
    """Shared instructions (below the minimum alone), then one of three documents, each asked
    about every ten minutes: a document seen before is written for the hour its gaps call for,
    not discounted as a third of the instructions' traffic (a timestamp's discount)."""
    traffic = Traffic()

    def asked(doc: int, question: int) -> dict[str, Any]:
        req = request(SONNET, 500, [text(80, f"q{question}")], seed="instructions")
        req["system"].append(text(3000, f"document {doc} "))
        return req

    plans = [traffic.send(asked(n % 3, n), after=200) for n in range(9)]
    later = [[(cp.role, cp.after, cp.ttl) for cp in plan.checkpoints] for plan in plans[3:6]]
    if client_sends_ttl:
        assert later == [[("system", 1, "1h")]] * 3
    else:  # this botocore cannot send a ttl: a 5m entry would be gone before the next ask
        assert later == [[]] * 3


def test_a_time_stamp_ahead_of_the_question_leaves_the_checkpoint_on_the_system_prompt() -> None:
    """Each user message starts with the current minute. The stamp could hold a checkpoint only in
    place of the system prompt's (a segment under the minimum cannot follow one), and a
    conversation begun in another minute would find nothing to read: the system prompt is
    written, and the next conversation reads it."""
    traffic = Traffic()

    def opening(minute: int) -> dict[str, Any]:
        stamp = {"text": f"Current time: 2026-11-26T10:{minute:02d}Z"}
        return request(SONNET, 3000, [stamp, text(150, f"q{minute}")])

    assert roles(traffic.send(opening(0))) == ["system"]
    # the next conversation's end, which reaches the system prompt's entry by lookback
    assert roles(traffic.send(opening(1), after=60)) == ["conversation"]


def test_a_changed_system_prompt_inherits_what_conversations_did_under_the_last_one() -> None:
    """A timestamp in the system prompt starts a new static prefix every minute: conversations
    begun in the new minute are written as the earlier ones were, before any of them went on."""
    traffic = Traffic()

    def opening(minute: int, chat: int, *later: list[dict[str, Any]]) -> dict[str, Any]:
        req = request(SONNET, 3000, [text(300, f"q{minute}.{chat}")], *later)
        req["system"].append({"text": f"Current time: 10:{minute:02d}"})
        return req

    for chat in range(3):
        traffic.send(opening(0, chat), after=5)
        traffic.send(opening(0, chat, [text(100, "a")], [text(300, "more")]), after=5)
    plans = [traffic.send(opening(1, chat), after=5) for chat in range(3)]
    # (the second one keeps the new minute's system prompt instead: a segment below the minimum
    # cannot follow it)
    assert "conversation" in roles(plans[0]) and "conversation" in roles(plans[2])


def test_later_turns_advance_the_tail_which_reads_earlier_entries_by_lookback() -> None:
    traffic = Traffic()
    turns: list[list[dict[str, Any]]] = [[text(50, "q0")]]
    for turn in range(1, 5):
        traffic.send(request(SONNET, 4000, *turns))
        turns += [[text(100, f"a{turn}")], [text(1200, f"q{turn}")]]
    assert roles(traffic.send(request(SONNET, 4000, *turns))) == ["conversation"]


def test_each_turn_writes_the_new_end_not_the_previous_one_again() -> None:
    # The previous turn's end comes back because the conversation goes on; the checkpoint at the
    # new end serves that, so the turn's spare segment is spent there.
    traffic = Traffic()
    turns: list[list[dict[str, Any]]] = [[text(500, "q0")]]
    for turn in range(1, 5):
        plan = traffic.send(request(SONNET, 4000, *turns))
        if turn > 1:
            assert roles(plan) == ["conversation"]
            assert (
                plan.checkpoints[0].after
                == Layout.of(request(SONNET, 4000, *turns)).blocks[-1].index
            )
        turns += [[text(400, f"a{turn}")], [text(500, f"q{turn}")]]


def test_a_document_is_split_from_its_question_and_read_by_the_next_questions() -> None:
    traffic = Traffic()
    document = text(3000, "d")
    first = traffic.send(request(SONNET, 200, [document, text(20, "q1")]))
    assert roles(first) == ["document"]
    assert first.checkpoints[0].after == 1  # between the document and the question
    traffic.send(request(SONNET, 200, [document, text(20, "q2")]))
    third = traffic.send(request(SONNET, 200, [document, text(20, "q3")]))
    assert roles(third) == ["bridge"] and third.checkpoints[0].after == 1


def test_rag_chat_advances_the_conversation_instead_of_chunks_that_never_recur() -> None:
    traffic = Traffic()
    for chat in range(3):
        turns: list[list[dict[str, Any]]] = []
        for turn in range(4):
            chunks = text(2000, f"chunk{chat}.{turn}")
            turns.append([chunks, text(30, f"q{chat}.{turn}")])
            plan = traffic.send(request(SONNET, 1500, *turns))
            turns.append([text(200, f"a{chat}.{turn}")])
    assert roles(plan) == ["conversation"]


def test_shared_few_shot_examples_get_the_checkpoint_and_queries_do_not() -> None:
    examples: list[list[dict[str, Any]]] = []
    for n in range(10):
        examples += [[text(300, f"example{n}")], [text(150, f"label{n}")]]
    traffic = Traffic()
    for query in range(4):
        plan = traffic.send(request(HAIKU, 300, *examples, [text(60, f"query{query}")]))
    layout = Layout.of(request(HAIKU, 300, *examples, [text(60, "query")]))
    examples_end = layout.message_range(len(examples) - 1)[-1]
    assert [cp.after for cp in plan.checkpoints] == [examples_end]


def test_one_off_prompts_are_never_written() -> None:
    traffic = Traffic()
    plans = [traffic.send(request(SONNET, 0, [text(3000, f"prompt{n}")])) for n in range(10)]
    assert all(plan.checkpoints == () for plan in plans)


def test_a_checkpoint_below_the_minimum_never_blocks_a_better_one() -> None:
    traffic = Traffic()
    for question in range(3):
        plan = traffic.send(request(HAIKU, 500, [text(6000, "doc"), text(20, f"q{question}")]))
    assert roles(plan) == ["bridge"] and plan.checkpoints[0].prefix_tokens > 6000


def test_tools_keep_their_own_checkpoint_when_the_system_prompt_varies() -> None:
    traffic = Traffic()
    for tenant in range(4):
        plan = traffic.send(request(SONNET, 2000, [text(50)], tools=1500, seed=f"tenant{tenant}"))
    assert "tools" in roles(plan) or plan.checkpoints[0].after == 0


def test_a_prefix_recurring_past_five_minutes_gets_one_hour(client_sends_ttl: bool) -> None:
    traffic = Traffic()
    for question in range(4):
        plan = traffic.send(request(SONNET, 5000, [text(50, f"q{question}")]), after=1200)
    ttls = {cp.role: cp.ttl for cp in plan.checkpoints}
    if client_sends_ttl:
        assert ttls.get("system") == "1h" or ttls.get("bridge") == "1h"
    else:  # this botocore cannot send a ttl: 1h is never planned
        assert "1h" not in ttls.values()
    dense = Traffic()
    for question in range(4):
        plan = dense.send(request(SONNET, 5000, [text(50, f"q{question}")]), after=20)
    assert {cp.ttl for cp in plan.checkpoints} == {"5m"}


def test_a_prefix_recurring_every_two_minutes_is_written_for_the_hour(
    client_sends_ttl: bool,
) -> None:
    """Before any gap past five minutes was seen: steady traffic two minutes apart would lose a
    5m entry now and then, so its first write takes 1h."""
    traffic = Traffic()
    traffic.send(request(SONNET, 5000, [text(50, "first")], seed="another tenant"))
    for question in range(2):
        req = request(SONNET, 5000, [text(50, f"q{question}")], seed="tenant")
        plan = traffic.send(req, after=120)
    hour = "1h" if client_sends_ttl else "5m"  # 1h only where this botocore can send it
    assert [(cp.role, cp.ttl) for cp in plan.checkpoints][:1] == [("system", hour)]


def test_conversations_that_resume_after_minutes_get_their_new_turns_written_for_the_hour(
    client_sends_ttl: bool,
) -> None:
    """Turns ten minutes apart: once a conversation's ends came back after more than five
    minutes, a new conversation's first turn is written for the hour (its ends still waiting
    are not counted as ends that never came back)."""
    traffic = Traffic()
    turns: list[list[dict[str, Any]]] = [[text(300, "a-q0")]]
    for turn in range(1, 4):
        traffic.send(request(SONNET, 3000, *turns), after=600)
        turns += [[text(300, f"a-a{turn}")], [text(300, f"a-q{turn}")]]
    plan = traffic.send(request(SONNET, 3000, [text(300, "b-q0")]), after=100)
    if client_sends_ttl:
        assert ("conversation", "1h") in [(cp.role, cp.ttl) for cp in plan.checkpoints]
    else:  # this botocore cannot send a ttl: a 5m entry would be gone before the next turn
        assert "conversation" not in roles(plan)


def test_a_new_conversation_on_a_known_prompt_writes_its_first_turn() -> None:
    """The first conversation has not had its next turn yet, so nothing says conversations do
    not continue: the second one's first turn is written too."""
    traffic = Traffic()
    traffic.send(request(SONNET, 3000, [text(500, "chat 0")]))
    assert "conversation" in roles(traffic.send(request(SONNET, 3000, [text(500, "chat 1")])))


def test_a_new_system_prompt_keeps_its_checkpoint_for_the_next_conversation() -> None:
    """A deploy changes the system prompt. Its first conversation's opening question is below the
    minimum past the prompt, so one checkpoint must go: at the prompt, which the next
    conversations read too, not at the question's end, which only this one's next turn reads."""
    traffic = Traffic()
    for chat in range(3):  # conversations on the old prompt go on for four turns
        turns = [[text(60, f"q{chat}")]]
        for turn in range(4):
            traffic.send(request(SONNET, 3000, *turns, seed="v1"), after=20)
            turns += [[text(150, f"a{chat}.{turn}")], [text(60, f"q{chat}.{turn}")]]
    plan = traffic.send(request(SONNET, 3000, [text(60, "first")], seed="v2"), after=20)
    assert roles(plan) == ["system"]


def test_a_sliding_window_stops_writing_ends_no_later_request_re_sends() -> None:
    """An app that sends only the last few messages (trim_messages) never re-sends a request's
    end once its window moves on. Conversations that keep their history taught the planner that
    ends come back; the windowed ones learn apart that theirs do not."""
    traffic = Traffic()
    for chat in range(3):  # conversations that re-send their whole history
        turns = [[text(60, f"q{chat}")]]
        for turn in range(4):
            traffic.send(request(SONNET, 3000, *turns), after=20)
            turns += [[text(150, f"a{chat}.{turn}")], [text(60, f"q{chat}.{turn}")]]
    history = [[text(60, "w")]]
    plans = []
    for turn in range(12):  # one that keeps its last five messages
        plans.append(traffic.send(request(SONNET, 3000, *history[-5:]), after=20))
        history += [[text(150, f"wa{turn}")], [text(60, f"wq{turn}")]]
        if len(history) > 5:
            history = history[2:]
    assert all(roles(plan) == ["bridge"] for plan in plans[-4:])  # reads the system prompt


def test_a_system_prompt_holding_each_turns_context_stops_being_written() -> None:
    """A history-aware RAG chain: each turn a rephrase call on a fixed prompt (its conversation
    goes on), then the answer call, whose system prompt holds the turn's retrieved context, so
    no later request re-sends it. The rephrase calls taught the planner that conversations go
    on; answer calls, under a prompt never seen before, learn apart that theirs do not."""
    traffic = Traffic()
    plans = []
    for chat in range(3):
        history: list[list[dict[str, Any]]] = []
        for turn in range(5):
            question = [text(60, f"q{chat}.{turn}")]
            traffic.send(request(SONNET, 1200, *history, question, seed="rephrase"), after=20)
            answer = request(SONNET, 2500, *history, question, seed=f"context {chat}.{turn} ")
            plans.append(traffic.send(answer, after=2))
            history += [question, [text(200, f"a{chat}.{turn}")]]
    assert [plan.checkpoints for plan in plans[-6:]] == [()] * 6


def test_after_a_pause_the_checkpoint_goes_back_to_the_conversations_end() -> None:
    """A long chat of short turns that pauses past five minutes: the pause rewrites the
    conversation, and every turn after it reads it and writes its own end again. An answer's
    end seen in the last request recurs because the conversation goes on (the question after
    it came back too), not as a branch point, so it never takes the checkpoint from the end
    and leaves each turn's last messages unread."""
    traffic = Traffic()
    turns: list[list[dict[str, Any]]] = []
    plans = []
    for turn in range(40):
        turns.append([text(60, f"q{turn}")])
        req = request(SONNET, 1500, *turns)
        plans.append((traffic.send(req, after=400 if turn == 30 else 30), Layout.of(req)))
        turns.append([text(180, f"a{turn}")])
    for plan, layout in plans[31:]:
        ends = [cp.after for cp in plan.checkpoints if cp.role == "conversation"]
        assert ends == [len(layout.blocks) - 1]


def test_one_shot_calls_without_a_system_prompt_learn_apart_from_chats_under_one() -> None:
    """Chats under a system prompt go on turn after turn; one-shot calls on the same model with
    no tools or system prompt (their instructions and content in one user message, a
    replanner say) never come back. What the chats taught does not get the one-shot calls
    written."""
    traffic = Traffic()
    plans = []
    for chat in range(4):
        turns: list[list[dict[str, Any]]] = []
        for turn in range(3):
            turns.append([text(100, f"q{chat}.{turn}")])
            traffic.send(request(SONNET, 3000, *turns), after=10)
            turns.append([text(200, f"a{chat}.{turn}")])
        one_shot = request(SONNET, 0, [text(1500, f"instructions and step {chat} ")])
        plans.append(traffic.send(one_shot, after=5))
    assert [plan.checkpoints for plan in plans] == [()] * 4


def test_a_conversation_is_written_for_the_hour_on_its_small_turns_not_its_rewrite(
    client_sends_ttl: bool,
) -> None:
    """The hour's premium at a conversation's end insures the whole conversation against the
    next turn coming after five minutes. After one pause in thirty turns the rewrite is written
    for five minutes (the next gap is likely short). A user who pauses every sixth turn gets
    each small turn written for the hour, and comes back to a conversation still readable."""

    def chat(pause_every: int) -> list[Plan]:
        traffic = Traffic()
        turns: list[list[dict[str, Any]]] = []
        plans = []
        for turn in range(30):
            turns.append([text(60, f"q{turn}")])
            pause = turn % pause_every == pause_every - 1
            plans.append(traffic.send(request(SONNET, 1500, *turns), after=400 if pause else 30))
            turns.append([text(180, f"a{turn}")])
        return plans

    def ends(plans: list[Plan]) -> list[str | None]:
        return [
            next((c.ttl for c in p.checkpoints if c.role == "conversation"), None) for p in plans
        ]

    assert ends(chat(29)[28:]) == ["5m", "5m"]  # the rewrite after the one pause, and the next
    plans = chat(6)
    if client_sends_ttl:
        assert ends(plans[12:]) == ["1h"] * 18
    else:  # this botocore cannot send a ttl: 1h is never planned
        assert "1h" not in ends(plans)


def test_a_prefilled_answer_leaves_the_conversation_end_on_the_question() -> None:
    """A request that ends with the start of the answer (an assistant prefill, say "{") is never
    re-sent as is: the next turn carries the whole answer. The question before it is what the
    next turn re-sends, so the conversation's checkpoint goes there, every turn."""
    traffic = Traffic()
    turns: list[list[dict[str, Any]]] = []
    for turn in range(6):
        turns.append([text(80, f"q{turn}")])
        req = request(SONNET, 3000, *turns, [{"text": "{"}])
        plan = traffic.send(req)
        question_end = Layout.of(req).message_range(len(turns) - 1).stop - 1
        if turn:
            assert [(cp.role, cp.after) for cp in plan.checkpoints] == [
                ("conversation", question_end)
            ]
        turns.append([text(200, f"a{turn}")])


def test_one_hour_only_where_the_model_offers_it_and_never_after_five_minutes(
    client_sends_ttl: bool,
) -> None:
    req = request(SONNET, 3000, [text(3000, "d"), text(1500, "q")], tools=1500)
    plan = Traffic(CachePolicy(static_ttl="1h")).send(req)
    ordered = [cp.ttl for cp in plan.checkpoints]
    assert ordered, "the static prefix is cached"
    assert ("1h" in ordered) is client_sends_ttl  # 1h only where this botocore can send it
    assert ordered == sorted(ordered, key=lambda t: t != "1h")  # 1h never after 5m
    req_4 = request(SONNET_4, 3000, [text(3000, "d"), text(50, "q")], tools=1500)
    assert {cp.ttl for cp in Traffic(CachePolicy(static_ttl="1h")).send(req_4).checkpoints} <= {
        "5m"
    }


def test_nova_never_gets_a_tool_checkpoint_and_keeps_the_previous_tail_exactly() -> None:
    traffic = Traffic()
    turns: list[list[dict[str, Any]]] = [[text(1200, "q0")]]
    for turn in range(1, 6):
        plan = traffic.send(request(NOVA, 2000, *turns, tools=5000))
        assert "tools" not in roles(plan)
        turns += [[text(100, f"a{turn}")], [text(1200, f"q{turn}")]]
    plan = traffic.send(request(NOVA, 2000, *turns, tools=5000))
    previous_tail = Layout.of(request(NOVA, 2000, *turns[:-2], tools=5000)).blocks[-1].index
    assert previous_tail in [cp.after for cp in plan.checkpoints]


def test_a_nova_chat_past_the_cache_cap_keeps_reading_its_deepest_entry() -> None:
    """Nova caches nothing past 20,000 tokens: once a chat grows beyond, its last entry under
    the cap stays the one to read however many turns follow."""
    traffic = Traffic()
    turns: list[list[dict[str, Any]]] = [[text(150, "q0")]]
    deepest = 0
    for turn in range(1, 60):
        plan = traffic.send(request(NOVA, 2000, *turns), after=15.0)
        written = [cp.prefix_tokens for cp in plan.checkpoints if cp.role != "bridge"]
        if written:
            deepest = max(deepest, *written)
        elif turn > 50:  # well past the cap: nothing new to write, the deepest entry is read
            assert deepest > 19_000
            assert [cp.prefix_tokens for cp in plan.checkpoints] == [deepest]
        turns += [[text(250, f"a{turn}")], [text(150, f"q{turn}")]]


def test_a_nova_chat_of_small_messages_bridges_to_its_latest_entry() -> None:
    """Nova finds an entry only at a checkpoint's exact position, and a chat of 60-token
    messages writes only every 1,000 tokens: each request bridges to the deepest entry written
    so far, however many messages back it lies, rather than rewriting from an older one."""
    traffic = Traffic()
    messages: list[list[dict[str, Any]]] = [[text(60, "m0")]]
    deepest = 0
    for step in range(1, 80):
        plan = traffic.send(request(NOVA, 2000, *messages), after=5.0)
        bridges = [cp.prefix_tokens for cp in plan.checkpoints if cp.role == "bridge"]
        if deepest > 2000:
            assert bridges == [deepest]
        written = [cp.prefix_tokens for cp in plan.checkpoints if cp.role != "bridge"]
        deepest = max([deepest, *written])
        messages += [[text(60, f"a{step}")], [text(60, f"m{step}")]]
    assert deepest > 8000


def test_user_checkpoints_are_kept_and_counted() -> None:
    req = request(SONNET, 9000, [text(3000), text(3000), text(3000)])
    content = req["messages"][0]["content"]
    req["messages"][0]["content"] = [content[0], cache_point(), content[1], cache_point()]
    req["system"].append(cache_point())
    result = Traffic().send(req)
    assert result.kept == 3
    assert len(result.checkpoints) <= 1


def test_unsupported_model_gets_nothing() -> None:
    assert Traffic().send(request("meta.llama3-3-70b-instruct-v1:0", 5000, [text(50)])).kept == 0
    result = plan_checkpoints(
        Layout.of(request("meta.llama3-3-70b-instruct-v1:0", 5000, [text(50)])),
        resolve_model("meta.llama3-3-70b-instruct-v1:0").spec,
    )
    assert result.checkpoints == ()


def test_planning_never_mutates_the_request() -> None:
    traffic = Traffic()
    req = request(SONNET, 4000, [text(3000), text(20)], tools=1500)
    before = copy.deepcopy(req)
    for _ in range(3):
        planned = traffic.cache.prepare(req).request
    assert req == before
    assert "cachePoint" in str(planned)


def test_a_turn_adding_more_than_the_lookback_still_reaches_the_last_entry() -> None:
    uses = [{"toolUse": {"toolUseId": f"t{i}", "name": "lookup", "input": {}}} for i in range(11)]
    results = [
        {"toolResult": {"toolUseId": f"t{i}", "content": [{"text": "ok " * 300}]}}
        for i in range(11)
    ]
    traffic = Traffic()
    traffic.send(request(SONNET, 4000, [text(50)]))  # writes the system prompt (block 0)
    plan = traffic.send(request(SONNET, 4000, [text(50)], uses, results))
    lookback = resolve_model(SONNET).spec.lookback_blocks
    assert plan.checkpoints[0].after <= lookback  # reads block 0's entry (a bridge)
    assert plan.checkpoints[-1].after == 23  # and the moving end, 23 blocks on, is written


def test_a_store_shared_by_two_caches_shares_what_they_learned() -> None:
    store = InProcessStore()
    first, second = Traffic(store=store), Traffic(store=store)
    for question in range(3):
        first.send(request(SONNET, 200, [text(3000, "doc"), text(20, f"q{question}")]))
    second.now = first.now
    plan = second.send(request(SONNET, 200, [text(3000, "doc"), text(20, "another")]))
    assert roles(plan) == ["bridge"]  # the entry the first one wrote is read


def test_skip_one_off_writes_waits_for_a_prefix_to_recur() -> None:
    traffic = Traffic(CachePolicy(skip_one_off_writes=True))
    req = request(SONNET, 200, [text(3000, "d"), text(20, "q")])
    assert traffic.send(req).checkpoints == ()
    assert roles(traffic.send(req)) == ["conversation"]


def test_max_checkpoints_zero_turns_planning_off() -> None:
    assert (
        roles(Traffic(CachePolicy(max_checkpoints=0)).send(request(SONNET, 4000, [text(50)]))) == []
    )


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("cache_tools", "no", TypeError),
        ("cache_system", 1, TypeError),
        ("cache_documents", None, TypeError),
        ("cache_conversation", "yes", TypeError),
        ("skip_one_off_writes", "true", TypeError),
        ("static_ttl", "2h", ValueError),
        ("max_checkpoints", -1, ValueError),
        ("max_checkpoints", 2.5, ValueError),
        ("max_checkpoints", True, ValueError),
    ],
)
def test_every_policy_field_is_checked_when_built(
    field: str, value: object, error: type[Exception]
) -> None:
    with pytest.raises(error, match=field):
        CachePolicy(**{field: value})
