"""Time the sizing engine over the whole catalog: every model x every GPU x every precision it comes in.

Each sizing is what `size` does: the TP choice (memory plan for each allowed TP), and the roofline at the
largest batch, for an 8-GPU node, 1000 in / 1000 out, the model's own max_context capped at 32768,
once without and once with a latency SLO (TTFT 2000 ms, TPOT 50 ms: the bisection path). Also times
`instance_type: auto` (every priced shape) for each model. Prints the per-model x GPU matrix of output
tokens/s per node and the timings.

    python benchmarks/sizing_catalog.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from inferplan.catalog import builtin_catalog
from inferplan.catalog.efficiency import builtin_efficiency
from inferplan.sizing.split import Sizing, size_model
from inferplan.sizing.throughput import Slo, TokenMix

GPUS_PER_NODE = 8
MIX = TokenMix(1000, 1000)
CONTEXT_CAP = 32768
SLO = Slo(ttft_ms=2000, tpot_ms=50)


def sweep(slo: Slo | None) -> list[Sizing]:
    catalog, factors = builtin_catalog(), builtin_efficiency()
    out = []
    for model in catalog.models.values():
        context = min(model.max_context, CONTEXT_CAP)
        for gpu in catalog.gpus.values():
            for precision in model.quantizations:
                out.append(
                    size_model(model, gpu, GPUS_PER_NODE, precision, MIX, context, slo=slo, factors=factors)
                )
    return out


def auto_sweep() -> int:
    """Every model on every priced shape in us-east-1, as `instance_type: auto` does."""
    catalog, factors = builtin_catalog(), builtin_efficiency()
    count = 0
    for model in catalog.models.values():
        for instance in catalog.instances.values():
            if catalog.instance_price(instance.instance_type, "us-east-1") is None:
                continue
            gpu = catalog.gpus[instance.gpu]
            size_model(
                model, gpu, instance.gpus, model.quantizations[0], MIX, min(model.max_context, CONTEXT_CAP),
                slo=SLO, factors=factors,
            )  # fmt: skip
            count += 1
    return count


def timed(label: str, repeat: int, run: Callable[[], int | list[Sizing]]) -> tuple[str, int, float, float]:
    times, count = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
        count = result if isinstance(result, int) else len(result)
    best, median = min(times), statistics.median(times)
    return label, count, best, median


def matrix(results: list[Sizing]) -> str:
    catalog = builtin_catalog()
    gpus = list(catalog.gpus)
    best: dict[tuple[str, str], Sizing] = {}
    for s in results:  # per model x GPU, the precision with the highest throughput that fits
        key = (s.model_id, s.gpu)
        if s.fits and (key not in best or s.output_tokens_per_s > best[key].output_tokens_per_s):
            best[key] = s
    width = 16
    lines = [f"{'output tok/s per 8-GPU node (TP, precision)':44}" + "".join(f"{g:>{width}}" for g in gpus)]
    for model_id in catalog.models:
        cells = []
        for g in gpus:
            s = best.get((model_id, g))
            cells.append(
                f"{s.output_tokens_per_s / 1000:.1f}k t{s.tensor_parallel} {s.quantization}" if s else "-"
            )
        lines.append(f"{model_id.split('/')[-1][:44]:44}" + "".join(f"{c:>{width}}" for c in cells))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    sweep(None)  # warm the catalog cache
    rows = [
        timed("catalog x GPUs x precisions, max throughput", args.repeat, lambda: sweep(None)),
        timed("catalog x GPUs x precisions, under an SLO", args.repeat, lambda: sweep(SLO)),
        timed("catalog x priced shapes (instance_type: auto)", args.repeat, auto_sweep),
    ]
    print(matrix(sweep(None)))
    print()
    print(f"{'sweep':48} {'sizings':>8} {'best ms':>9} {'median ms':>10} {'us/sizing':>10}")
    for label, count, best, median in rows:
        print(f"{label:48} {count:8d} {best * 1000:9.1f} {median * 1000:10.1f} {median / count * 1e6:10.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
