"""Catalog prices for usage whose source carries no cost (Anthropic usage report, Bedrock logs).

The catalog (`inferplan/catalog/api_prices.csv`) names models without dates or versions
(`claude-sonnet-4-5`, `gpt-4o`); logs name them with (`claude-sonnet-4-5-20250929`,
`gpt-4o-2024-08-06`, Bedrock's `us.anthropic.claude-sonnet-4-5-20250929-v1:0`). A logged model
matches the longest catalog name it starts with, followed by `-` or nothing. Bedrock's Anthropic
models are priced at Anthropic's list price (Bedrock's on-demand price for them is the same in its
main regions; regional and cross-region premiums are not modelled).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from inferplan.catalog import read_rows

MTOK = 1_000_000
_BEDROCK_GEO = re.compile(r"^(us|eu|apac|us-gov|global|jp|au|ca)\.")
_BEDROCK_VERSION = re.compile(r"-v\d+(:\d+)?$")


@dataclass(frozen=True)
class ApiRate:
    provider: str
    model: str
    input_usd_per_mtok: float
    output_usd_per_mtok: float
    as_of: str

    def usd(self, input_tokens: int, output_tokens: int) -> float:
        return (input_tokens * self.input_usd_per_mtok + output_tokens * self.output_usd_per_mtok) / MTOK


@lru_cache(maxsize=1)
def _rates() -> dict[tuple[str, str], ApiRate]:
    return {
        (r["provider"], r["model"]): ApiRate(
            r["provider"],
            r["model"],
            float(r["input_usd_per_mtok"]),
            float(r["output_usd_per_mtok"]),
            r["as_of"],
        )
        for r in read_rows("api_prices.csv")
    }


def catalog_name(provider: str, model: str) -> tuple[str, str]:
    """(provider, model) as the catalog would name them; Bedrock ids are unwrapped to their maker's."""
    if provider == "bedrock":
        bare = _BEDROCK_VERSION.sub("", _BEDROCK_GEO.sub("", model))
        maker, _, name = bare.partition(".")
        return (maker, name) if name else (provider, model)
    return provider, model.split("/")[-1]  # LiteLLM writes "openai/gpt-4o" in places


def catalog_rate(provider: str, model: str) -> ApiRate | None:
    """The catalog's per-token rate for a logged model, or None when the catalog has no such model."""
    maker, name = catalog_name(provider, model)
    candidates = [
        rate for (p, m), rate in _rates().items() if p == maker and (name == m or name.startswith(f"{m}-"))
    ]
    return max(candidates, key=lambda r: len(r.model), default=None)
