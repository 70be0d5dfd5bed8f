"""Catalog prices for usage whose source carries no cost (Anthropic usage report, Bedrock logs).

Logs name models with dates or versions (`claude-sonnet-4-5-20250929`, `gpt-4o-2024-08-06`, Bedrock's
`us.anthropic.claude-sonnet-4-5-20250929-v1:0`); the price book matches them to its rows
(`PriceBook.api_as_logged`), at us-east-1 list prices (usage records say nothing of a stack's region).
"""

from __future__ import annotations

from functools import lru_cache

from inferplan.pricebook import BASE_REGION, ApiPrice, PriceBook


@lru_cache(maxsize=1)
def _book() -> PriceBook:
    return PriceBook.builtin(BASE_REGION)


def catalog_rate(provider: str, model: str) -> ApiPrice | None:
    """The catalog's per-token price of a logged model, or None when the catalog has no such model."""
    return _book().api_as_logged(provider, model)
