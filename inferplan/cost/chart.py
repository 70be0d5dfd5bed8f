"""The cost-vs-volume chart: the API-only line against the self-hosted steps, the crossing marked.

matplotlib is imported inside the function (Agg backend, no display) so the planner loads without it.
"""

from __future__ import annotations

from pathlib import Path

from inferplan.cost.breakeven import VolumeModel
from inferplan.errors import UserError


def x_range(model: VolumeModel, breakeven: float | None) -> float:
    """Far enough right to show the declared volume, the crossing and the first node added."""
    right = max(model.calls_per_month * 1.5, (breakeven or 0.0) * 2.5)
    per_node = [p.calls_per_node * max(p.min_nodes, 1) for p in model.pools if p.scales]
    if per_node and (not right or min(per_node) < 10 * right):
        right = max(right, min(per_node) * 1.25)
    return right or 1.0


def _t(text: str) -> str:
    """Literal dollar signs (matplotlib reads $...$ as math)."""
    return text.replace("$", r"\$")


def _fmt(value: float) -> str:
    if value >= 1e6:
        return f"{value / 1e6:.3g}M"
    if value >= 1e3:
        return f"{value / 1e3:.3g}k"
    return f"{value:.3g}"


def plot_breakeven(model: VolumeModel, out: Path, title: str = "", up_to: float | None = None) -> Path:
    """Write the chart as PNG to `out` and return the path."""
    if out.suffix.lower() != ".png":
        raise UserError(f"--out {out}: the chart is a PNG; name a file ending in .png")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    breakeven = model.breakeven()
    right = up_to or x_range(model, breakeven)
    # Evaluate just before and just after every node step so the staircase is drawn exactly.
    xs = sorted({0.0, right, *(e for s in model.steps(right) for e in (s, s * (1 + 1e-6)))})
    xs = [x for x in xs if x <= right]
    self_hosted = [model.self_hosted_usd(x) for x in xs]
    api = [model.api_usd(x) for x in xs]

    fig, ax = plt.subplots(figsize=(9, 5.5), dpi=120)
    ax.plot(
        xs,
        api,
        color="#c0392b",
        linewidth=2,
        label=_t(f"API only (${model.api_per_call_usd * 1000:.2f} / 1k calls)"),
    )
    ax.plot(xs, self_hosted, color="#1f4e79", linewidth=2, label="self-hosted stack (steps = nodes added)")

    for pool in model.pools:
        if pool.scales and pool.max_nodes is not None:
            edge = pool.max_nodes * pool.calls_per_node
            if 0 < edge < right:
                ax.axvline(edge, color="#7f8c8d", linestyle=":", linewidth=1)
                ax.annotate(
                    f"{pool.name}: max_nodes {pool.max_nodes}",
                    (edge, ax.get_ylim()[1] * 0.02),
                    rotation=90,
                    fontsize=8,
                    color="#7f8c8d",
                    ha="right",
                    va="bottom",
                )
    if model.calls_per_month > 0:
        ax.axvline(model.calls_per_month, color="#27ae60", linestyle="--", linewidth=1.2)
        ax.annotate(
            f"declared volume\n{_fmt(model.calls_per_month)} calls/month",
            (model.calls_per_month, max(max(api), max(self_hosted)) * 0.60),
            fontsize=8,
            color="#27ae60",
            xytext=(4, 0),
            textcoords="offset points",
        )
    if breakeven is not None and breakeven <= right:
        cost = model.api_usd(breakeven)
        ax.plot([breakeven], [cost], "o", color="black", markersize=7, zorder=5)
        ax.annotate(
            _t(f"break-even ≈ {_fmt(breakeven)} calls/month\n(${cost:,.0f}/month either way)"),
            (breakeven, cost),
            xytext=(36, 30) if cost < 0.2 * max(max(api), max(self_hosted)) else (36, -34),
            textcoords="offset points",
            fontsize=9,
            bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "#999999", "alpha": 0.9},
            arrowprops={"arrowstyle": "-", "color": "black"},
        )
    elif breakeven is None:
        ax.text(
            0.02,
            0.96,
            "no break-even: the API stays cheaper per call than a full node at the margin",
            transform=ax.transAxes,
            fontsize=9,
            va="top",
        )

    ax.set_xlim(0, right)
    ax.set_ylim(bottom=0)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: _fmt(v)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: _t(f"${_fmt(v)}")))
    ax.set_xlabel("calls per month (the stack's token mix, all workloads scaled together)")
    ax.set_ylabel("USD per month")
    ax.set_title(_t(title or "Self-hosted vs API-only cost by volume"))
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left")
    fig.tight_layout()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out, format="png")
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc.strerror or exc}") from None
    finally:
        plt.close(fig)
    return out
