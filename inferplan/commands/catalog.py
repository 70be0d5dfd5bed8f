"""`catalog models|gpus|instances|commitments|hardware|apis [--region R] [--format json]`: what the planner
knows, with dates.

Everything is read through the catalog loaders (`inferplan.catalog`, the price book), so rows added
to the CSV files appear here without code changes. Prices come with their source and `as_of`; a
price derived for a region without its own row (us-east-1 x a regional factor) is marked `~`.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from inferplan.catalog import builtin_catalog, read_rows
from inferplan.errors import EXIT_OK, UserError
from inferplan.pricebook import BASE_REGION, COMMITMENTS, PriceBook
from inferplan.router_config import catalog_context_window
from inferplan.sizing.architecture import param_counts
from inferplan.spec import did_you_mean

KINDS = ("models", "gpus", "instances", "commitments", "hardware", "apis")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", choices=KINDS, help="what to list")
    parser.add_argument(
        "--region", default=BASE_REGION, help=f"region instance prices are shown for (default: {BASE_REGION})"
    )
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default: text)"
    )


def known_regions() -> list[str]:
    """Regions the price files know: a regional factor or instance prices of their own."""
    catalog = builtin_catalog()
    factors = {r["region"] for r in read_rows("region_price_factors.csv")}
    return sorted(factors | {region for _, region in catalog.instance_prices})


def models() -> list[dict[str, Any]]:
    return [
        {
            "id": m.id,
            "params_total_b": round(param_counts(m).total / 1e9, 1),
            "params_active_b": round(param_counts(m).active(m) / 1e9, 1),
            "max_context": m.max_context,
            "attention": m.attention,
            "native_precision": m.native_precision,
            "quantizations": list(m.quantizations),
            "notes": m.notes,
            "source": m.source,
            "as_of": m.as_of,
        }
        for m in sorted(builtin_catalog().models.values(), key=lambda m: m.id.lower())
    ]


def gpus() -> list[dict[str, Any]]:
    return [
        {
            "gpu": g.gpu,
            "memory_gib": g.memory_gib,
            "memory_bandwidth_tb_s": g.memory_bandwidth_tb_s,
            "bf16_dense_tflops": g.bf16_dense_tflops,
            "fp8_dense_tflops": g.fp8_dense_tflops,
            "source": g.source,
            "as_of": g.as_of,
        }
        for g in sorted(builtin_catalog().gpus.values(), key=lambda g: g.gpu)
    ]


def instances(region: str) -> list[dict[str, Any]]:
    book = PriceBook.builtin(region)
    out = []
    for shape in sorted(builtin_catalog().instances.values(), key=lambda i: (i.gpu, i.gpus, i.instance_type)):
        price = book.instance_hour(shape.instance_type)
        out.append(
            {
                "instance_type": shape.instance_type,
                "gpu": shape.gpu,
                "gpus": shape.gpus,
                "vcpus": shape.vcpus,
                "memory_gib": shape.memory_gib,
                "region": region,
                "usd_per_hour": None if price is None else round(price.usd, 4),
                "estimated": bool(price and price.estimated),
                "price_source": None if price is None else price.source,
                "price_as_of": None if price is None else price.as_of,
                "note": "" if price is None else price.note,
            }
        )
    return out


def commitments(region: str) -> list[dict[str, Any]]:
    """Every commitment rate a pool's `purchase` can use in the region, beside the on-demand price."""
    book = PriceBook.builtin(region)
    out = []
    for shape in sorted(builtin_catalog().instances.values(), key=lambda i: (i.gpu, i.gpus, i.instance_type)):
        on_demand = book.instance_hour(shape.instance_type)
        for purchase in COMMITMENTS:
            price = book.commitment_hour(shape.instance_type, purchase)
            if price is None:
                continue
            out.append(
                {
                    "instance_type": shape.instance_type,
                    "purchase": purchase,
                    "region": region,
                    "usd_per_hour": round(price.usd, 4),
                    "on_demand_usd_per_hour": None if on_demand is None else round(on_demand.usd, 4),
                    "saving": None if on_demand is None else round(1 - price.usd / on_demand.usd, 3),
                    "min_hours": price.min_hours or None,
                    "estimated": price.estimated,
                    "source": price.source,
                    "as_of": price.as_of,
                    "note": price.note,
                }
            )
    return out


def hardware() -> list[dict[str, Any]]:
    """What buying a node like each EC2 shape costs and draws (the buy scenario's defaults)."""
    owned = PriceBook.builtin(BASE_REGION).owned
    return [
        {
            "instance_type": node.instance_type,
            "server": node.server,
            "node_price_usd": node.node_price_usd,
            "power_kw": node.power_kw,
            "source": node.source,
            "as_of": node.as_of,
            "power_source": node.power_source,
            "power_as_of": node.power_as_of,
        }
        for node in sorted(owned.values(), key=lambda n: n.instance_type)
    ]


def apis() -> list[dict[str, Any]]:
    out = []
    prices = [row for group in PriceBook.builtin(BASE_REGION).api_prices.values() for row in group]
    for price in sorted(prices, key=lambda p: (p.key, p.region)):
        out.append(
            {
                "provider": price.provider,
                "model": price.model,
                "region": price.region or None,
                "input_usd_per_mtok": price.input_usd_per_mtok,
                "output_usd_per_mtok": price.output_usd_per_mtok,
                "context_window": catalog_context_window(price.provider, price.model),
                "source": price.source,
                "as_of": price.as_of,
            }
        )
    return out


def rows(kind: str, region: str) -> list[dict[str, Any]]:
    if kind in ("instances", "commitments"):
        regions = known_regions()
        if region not in regions:
            raise UserError(
                f"--region: no prices for '{region}'{did_you_mean(region, regions)} "
                f"(known: {', '.join(regions)}; a stack can add rows under catalog.instance_prices)"
            )
        return instances(region) if kind == "instances" else commitments(region)
    return {"models": models, "gpus": gpus, "hardware": hardware, "apis": apis}[kind]()


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return ",".join(map(str, value))
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


TEXT_COLUMNS = {
    "models": (
        "id",
        "params_total_b",
        "params_active_b",
        "max_context",
        "native_precision",
        "quantizations",
        "as_of",
    ),
    "gpus": ("gpu", "memory_gib", "memory_bandwidth_tb_s", "bf16_dense_tflops", "fp8_dense_tflops", "as_of"),
    "instances": ("instance_type", "gpu", "gpus", "vcpus", "usd_per_hour", "price_as_of"),
    "commitments": ("instance_type", "purchase", "usd_per_hour", "on_demand_usd_per_hour", "saving", "as_of"),
    "hardware": ("instance_type", "server", "node_price_usd", "power_kw", "as_of"),
    "apis": (
        "provider",
        "model",
        "region",
        "input_usd_per_mtok",
        "output_usd_per_mtok",
        "context_window",
        "as_of",
    ),
}


def render_text(kind: str, items: list[dict[str, Any]], region: str) -> str:
    columns = TEXT_COLUMNS[kind]
    table = [list(columns)]
    for item in items:
        cells = [_cell(item[c]) for c in columns]
        if kind in ("instances", "commitments") and item["estimated"]:
            cells[columns.index("usd_per_hour")] += " ~"
        table.append(cells)
    widths = [max(len(row[i]) for row in table) for i in range(len(columns))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in table]
    notes = {
        "models": "params in billions; `size --model ID` sizes one on a GPU; --format json adds sources",
        "gpus": "dense tensor TFLOPS; --format json adds sources",
        "instances": f"on-demand USD per node-hour in {region}; ~ = us-east-1 price x the regional factor "
        "(no row of its own); --format json adds sources",
        "commitments": f"no-upfront USD per node-hour in {region} (pools[].purchase); saving = share off "
        "on-demand; ~ = us-east-1 rate x the region's on-demand ratio; --format json adds sources",
        "hardware": "buying a node like the shape (cost.buy): USD per node, kW drawn; --format json adds sources",
        "apis": "USD per million tokens, list prices; --format json adds sources",
    }
    return "\n".join([*lines, "", notes[kind]]) + "\n"


def run(args: argparse.Namespace) -> int:
    items = rows(args.kind, args.region)
    if args.format == "json":
        sys.stdout.write(
            json.dumps({"kind": args.kind, "region": args.region, "items": items}, indent=2) + "\n"
        )
    else:
        sys.stdout.write(render_text(args.kind, items, args.region))
    return EXIT_OK
