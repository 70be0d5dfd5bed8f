"""What one API call is billed, token kind by token kind: the one place API prices meet a workload.

A provider bills a call's prompt in up to three kinds — tokens read from its prompt cache, tokens
written to it, the rest at the input price — plus the completion at the output price; its batch API
takes a discount off every kind; a retried call is billed again in full. Every API figure of a plan
(the cost lines, the decision's per-call price, the API-only alternative, cost per accepted outcome)
comes from `token_charges` and `per_call_usd`, so they cannot disagree.

Where the catalog has no cache price, those tokens are billed at the input price (OpenAI bills cache
writes that way); where it has no batch discount, a batch workload pays list price. Both say so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from inferplan.pricebook import ApiPrice
from inferplan.spec import Workload

ChargeKind = Literal["input", "cache_read", "cache_write", "output"]


@dataclass(frozen=True)
class TokenCharge:
    """One kind of token of one call: how many, and what a million of them cost after any batch discount."""

    kind: ChargeKind
    tokens: float  # per call (before retries)
    usd_per_mtok: float
    note: str = ""

    @property
    def usd(self) -> float:
        return self.tokens * self.usd_per_mtok / 1e6


def token_charges(price: ApiPrice, workload: Workload) -> tuple[TokenCharge, ...]:
    """The kinds of token one call of `workload` is billed for at `price`: input and output always, the
    cache kinds when the workload declares a share for them."""
    cache = workload.prompt_cache
    read = cache.read_share if cache is not None else 0.0
    write = cache.write_share if cache is not None else 0.0
    factor, batch_note = 1.0, ""
    if workload.batch:
        if price.batch_discount is not None:
            factor = 1 - price.batch_discount
            batch_note = f"batch API: {price.batch_discount:.0%} off"
        else:
            batch_note = f"batch API: no batch discount for {price.key} in the catalog, list price"
    read_usd, read_note = price.cache_read_usd_per_mtok, ""
    if read_usd is None:
        read_usd, read_note = price.input_usd_per_mtok, "no cache-read price in the catalog: input price"
    write_usd, write_note = price.cache_write_usd_per_mtok, ""
    if write_usd is None:
        write_usd, write_note = price.input_usd_per_mtok, "no cache-write price in the catalog: input price"
    tokens_in = workload.input_tokens
    kinds: tuple[tuple[ChargeKind, float, float, str], ...] = (
        ("input", tokens_in * (1 - read - write), price.input_usd_per_mtok, ""),
        ("cache_read", tokens_in * read, read_usd, read_note),
        ("cache_write", tokens_in * write, write_usd, write_note),
        ("output", workload.output_tokens, price.output_usd_per_mtok, ""),
    )
    return tuple(
        TokenCharge(kind, tokens, usd * factor, "; ".join(filter(None, [note, batch_note])))
        for kind, tokens, usd, note in kinds
        if tokens > 0 or kind in ("input", "output")
    )


def per_call_usd(price: ApiPrice, workload: Workload) -> float:
    """What one call costs in tokens, as billed: every charge, retries billed again in full."""
    return sum(c.usd for c in token_charges(price, workload)) * (1 + workload.retry_share)
