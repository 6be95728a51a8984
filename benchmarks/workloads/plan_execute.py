"""Plan and execute (the LangGraph pattern): per objective a planner call (1,400-token system
prompt and the objective), then per plan step an executor (a one-line system prompt and 15 tools;
a fresh history asking it to execute the step, one tool call with a 300-500-token result, the
answer) and a replanner call with no system prompt (900 tokens of fixed instructions, the
objective, the plan and the steps done, in one user message); 6 objectives of 3-5 steps,
60-300 s apart, on Sonnet 4.5."""

from __future__ import annotations

from ..calls import Call, ToolCall, ToolResult, Workload, assistant, filler, user
from ._common import SONNET_45, agent_tools, between


def build() -> list[Call]:
    planner = (filler(1_400, "pe-planner"),)
    executor = ("You are a helpful assistant.",)
    tools = agent_tools(15)
    replan = filler(900, "pe-replan")
    calls: list[Call] = []
    now = 0.0
    for number in range(6):
        objective = filler(120, f"pe-objective-{number}")
        calls.append(Call(now, planner, (user(objective),)))
        now += between(4, 8, f"pe-{number}-plan")
        steps = 3 + int(between(0, 3, f"pe-{number}-steps"))
        plan = "\n".join(f"{s + 1}. {filler(30, f'pe-{number}-step-{s}')}" for s in range(steps))
        done: list[str] = []
        for step in range(steps):
            task = user(f"For the following plan:\n{plan}\n\nExecute step {step + 1}.")
            calls.append(Call(now, executor, (task,), tools))
            now += between(2, 4, f"pe-{number}-{step}-call")
            use = ToolCall(f"tooluse_pe_{number}_{step}", tools[(number + step) % 15].name, {})
            size = int(between(300, 500, f"pe-{number}-{step}-size"))
            result = ToolResult(use.id, filler(size, f"pe-{number}-{step}-result"))
            history = (task, assistant(calls=[use]), user(results=[result]))
            calls.append(Call(now, executor, history, tools))
            now += between(2, 4, f"pe-{number}-{step}-answer")
            done.append(f"Step {step + 1}: {filler(120, f'pe-{number}-done-{step}')}")
            progress = "\n".join(done)
            calls.append(
                Call(
                    now,
                    (),
                    (
                        user(
                            f"{replan}\n\nObjective: {objective}\n\nPlan:\n{plan}\n\n"
                            f"Done so far:\n{progress}"
                        ),
                    ),
                )
            )
            now += between(3, 7, f"pe-{number}-replan-{step}")
        now += between(60, 300, f"pe-gap-{number}")
    return calls


WORKLOAD = Workload("plan-execute", SONNET_45, __doc__ or "", build)
