"""Parameter counts of a model from its architecture, split the way memory and FLOPs use them.

Counted like the checkpoint stores them: token embedding, lm_head (none when tied to the embedding),
attention projections (GQA: q, k, v, o; MLA: the low-rank q and kv projections of DeepSeek-V3),
gated FFNs of three matrices (SwiGLU/GeGLU, as every catalog family uses), routed and shared experts,
the router, and the RMSNorm weights. Biases are left out (at most 0.1% of a model: gpt-oss's expert
biases, Qwen2's qkv biases). The tests check the totals against the counts the model cards publish.
"""

from __future__ import annotations

from dataclasses import dataclass

from inferplan.catalog import ModelEntry


@dataclass(frozen=True)
class ParamCounts:
    """Parameters of one full copy of a model, by role."""

    embedding: float  # input token table (looked up, never multiplied)
    lm_head: float  # output projection; 0 when tied to the embedding
    attention: float  # all layers
    dense_mlp: float  # FFNs of the dense layers
    routed_experts: float  # every routed expert of every MoE layer
    shared_experts: float
    router: float
    norms: float
    head_width: float  # vocab x hidden: what the output projection multiplies, tied or not

    @property
    def total(self) -> float:
        return (
            self.embedding
            + self.lm_head
            + self.attention
            + self.dense_mlp
            + self.routed_experts
            + self.shared_experts
            + self.router
            + self.norms
        )

    def active_routed(self, model: ModelEntry) -> float:
        """Routed-expert parameters one token multiplies through (k of E experts per MoE layer)."""
        if not model.is_moe:
            return 0.0
        return self.routed_experts * model.moe_active_experts / model.moe_experts

    def active_dense_linear(self) -> float:
        """Non-expert parameters one token multiplies through (2 FLOPs each), the output head included."""
        return self.attention + self.dense_mlp + self.shared_experts + self.router + self.head_width

    def active(self, model: ModelEntry) -> float:
        """Parameters one token uses, the way model cards count them (embedding and head included)."""
        return self.total - self.routed_experts + self.active_routed(model)


def head_dim(model: ModelEntry) -> int:
    return model.head_dim or model.hidden // model.attention_heads


def attention_params(model: ModelEntry) -> float:
    """Projection weights of one attention layer."""
    h, heads = model.hidden, model.attention_heads
    if model.attention == "mla":
        qk = model.qk_nope_head_dim + model.qk_rope_head_dim
        if model.q_lora_rank:
            q = h * model.q_lora_rank + model.q_lora_rank + model.q_lora_rank * heads * qk
        else:
            q = h * heads * qk
        kv = (
            h * (model.kv_lora_rank + model.qk_rope_head_dim)
            + model.kv_lora_rank
            + model.kv_lora_rank * heads * (model.qk_nope_head_dim + model.v_head_dim)
        )
        return float(q + kv + heads * model.v_head_dim * h)
    d = head_dim(model)
    kv_heads = model.kv_heads or heads
    return float(h * heads * d * 2 + h * kv_heads * d * 2)


def ffn_params(hidden: int, width: int) -> float:
    """A gated FFN: gate, up and down projections."""
    return 3.0 * hidden * width


def param_counts(model: ModelEntry) -> ParamCounts:
    h = model.hidden
    table = float(model.vocab_size * h)
    moe_layers = model.moe_layers if model.is_moe else 0
    dense_layers = model.layers - moe_layers
    return ParamCounts(
        embedding=table,
        lm_head=0.0 if model.tied_embeddings else table,
        attention=attention_params(model) * model.layers,
        dense_mlp=ffn_params(h, model.intermediate) * dense_layers,
        routed_experts=ffn_params(h, model.moe_intermediate) * model.moe_experts * moe_layers,
        shared_experts=ffn_params(h, model.shared_intermediate) * model.shared_experts * moe_layers,
        router=float(h * model.moe_experts * moe_layers),
        norms=float((2 * model.layers + 1) * h),
        head_width=table,
    )
