"""The model table resolves every id form users write, and users can extend or override it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bedrock_cache import ModelResolutionError, ModelTable, default_table, resolve_model

SONNET_45 = "anthropic.claude-sonnet-4-5-20250929-v1:0"


@pytest.mark.parametrize("prefix", ["", "us.", "eu.", "apac.", "jp.", "au.", "global."])
def test_profile_prefixes_resolve_to_the_base_model(prefix: str, client_sends_ttl: bool) -> None:
    resolved = resolve_model(prefix + SONNET_45)
    assert resolved.spec.model_id == SONNET_45
    assert resolved.spec.min_tokens == 1024
    # 1h needs the cachePoint ttl, which a botocore before 1.43 cannot send.
    assert resolved.spec.ttls == (("5m", "1h") if client_sends_ttl else ("5m",))
    assert resolved.profile_prefix == prefix


def test_regional_profiles_cost_more_on_claude_45_but_global_does_not() -> None:
    assert resolve_model("global." + SONNET_45).price_multiplier == 1.0
    assert resolve_model("us." + SONNET_45).price_multiplier == pytest.approx(1.1)
    assert resolve_model("us.anthropic.claude-3-7-sonnet-20250219-v1:0").price_multiplier == 1.0


def test_foundation_model_arn_resolves() -> None:
    arn = f"arn:aws:bedrock:us-east-1::foundation-model/{SONNET_45}"
    assert resolve_model(arn).spec.model_id == SONNET_45


def test_application_inference_profile_needs_base_model() -> None:
    arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123"
    with pytest.raises(ModelResolutionError, match="base_model="):
        resolve_model(arn)
    assert resolve_model(arn, base_model=SONNET_45).spec.model_id == SONNET_45


def test_application_inference_profile_resolves_through_a_bedrock_client() -> None:
    arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123"

    class ControlPlane:  # the shape of boto3's bedrock.get_inference_profile answer
        def get_inference_profile(self, inferenceProfileIdentifier: str) -> dict[str, object]:
            model_arn = f"arn:aws:bedrock:us-east-1::foundation-model/{SONNET_45}"
            return {"models": [{"modelArn": model_arn}]}

    assert resolve_model(arn, client=ControlPlane()).spec.model_id == SONNET_45


def test_unknown_model_does_not_cache_and_says_how_to_register_it() -> None:
    spec = resolve_model("acme.unknown-model-v1").spec
    assert not spec.supports_caching
    assert "register" in spec.note.lower()


def test_nova_limits_come_from_the_table() -> None:
    spec = resolve_model("us.amazon.nova-pro-v1:0").spec
    assert (spec.tools_cacheable, spec.lookback_blocks, spec.max_cached_tokens) == (False, 0, 20000)
    assert "next_to_tool_result" in spec.rejected_positions


def test_every_shipped_caching_model_has_prices_and_limits() -> None:
    for spec in default_table().models():
        assert spec.prices.input > 0 and spec.prices.output > 0
        if spec.supports_caching:
            assert spec.min_tokens > 0 and spec.max_checkpoints == 4 and spec.ttls[0] == "5m"


def test_users_override_and_add_models(tmp_path: Path) -> None:
    table = ModelTable.shipped()
    table.override(SONNET_45, min_tokens=2048)
    assert table.resolve("us." + SONNET_45).spec.min_tokens == 2048
    assert default_table().resolve(SONNET_45).spec.min_tokens == 1024  # other tables untouched

    extra = tmp_path / "models.toml"
    extra.write_text(
        '[[models]]\nids = ["acme.private-claude"]\nfamily = "claude"\nmin_tokens = 2000\n'
        "prices = { input = 2.0, output = 8.0, cache_read = 0.2, cache_write_5m = 2.5 }\n"
    )
    table.load(extra)
    spec = table.resolve("acme.private-claude").spec
    assert spec.supports_caching and spec.min_tokens == 2000 and spec.lookback_blocks == 20


def test_a_model_file_entry_without_prices_is_rejected_clearly(tmp_path: Path) -> None:
    bad = tmp_path / "models.toml"
    bad.write_text('[[models]]\nids = ["acme.x"]\nfamily = "claude"\nmin_tokens = 1\n')
    with pytest.raises(ValueError, match="prices"):
        ModelTable.shipped().load(bad)
