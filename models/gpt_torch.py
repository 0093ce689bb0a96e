"""A character-level GPT in PyTorch, in the style of nanoGPT's model.py: LayerNorm with bias,
causal self-attention through F.scaled_dot_product_attention(is_causal=True), a GELU MLP, no
dropout, the output head tied to the token embedding; AdamW from torch.optim.

Weights come from models.text.gpt_weights (NumPy, made once) and are copied in, so this file and
models/gpt_jax.py start from the same numbers; the builders at the bottom take a backend `be`
and return a ready step. Same names as models/gpt_jax.py, so the pair reads as a diff.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from models import mlp_torch
from models.text import BETAS, EPS, LAYER_NORM_EPS, WEIGHT_DECAY, GPTConfig, decays, is_linear_weight, named


class CausalSelfAttention(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd)  # key, query, value for all heads
        self.c_proj = nn.Linear(config.n_embd, config.n_embd)  # output projection
        self.n_head = config.n_head
        self.n_embd = config.n_embd

    def forward(self, x):
        B, T, C = x.size()  # batch, sequence length, embedding width
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # (B, nh, T, hs)
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # re-assemble all head outputs side by side
        return self.c_proj(y)


class MLP(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd)
        self.gelu = nn.GELU()  # exact (erf) GELU, as nanoGPT
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd)

    def forward(self, x):
        return self.c_proj(self.gelu(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, eps=LAYER_NORM_EPS)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, eps=LAYER_NORM_EPS)
        self.mlp = MLP(config)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.config = config
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(config.vocab_size, config.n_embd),
            wpe=nn.Embedding(config.block_size, config.n_embd),
            h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
            ln_f=nn.LayerNorm(config.n_embd, eps=LAYER_NORM_EPS),
        ))
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        # weight tying; the ignore: torch's stubs type a ModuleDict attribute as Tensor | Module (wte is an nn.Embedding)
        self.transformer.wte.weight = self.lm_head.weight  # type: ignore[union-attr]  # dynamic submodule attribute

    def forward(self, idx):
        """Logits at every position, (B, T, vocab) (nanoGPT returns only the last one at inference)."""
        b, t = idx.size()
        pos = torch.arange(0, t, dtype=torch.long, device=idx.device)  # (t,)
        x = self.transformer.wte(idx) + self.transformer.wpe(pos)  # (b, t, n_embd)
        for block in self.transformer.h:
            x = block(x)
        return self.lm_head(self.transformer.ln_f(x))  # (b, t, vocab_size)


def init_params(weights: dict, config: GPTConfig, device="cpu") -> GPT:
    """A GPT holding `weights` (models.text.gpt_weights, Linear weights stored (in, out))."""
    model = GPT(config)
    state = {state_name(name): torch.from_numpy(np.ascontiguousarray(w.T if is_linear_weight(name, w) else w))
             for name, w in named(weights).items()}
    state["lm_head.weight"] = state["transformer.wte.weight"]  # the same tensor: tied
    model.load_state_dict(state, strict=True)
    return model.to(device)


def state_name(name: str) -> str:
    """models.text's name of a weight -> its state_dict name ("wte" -> "transformer.wte.weight")."""
    return f"transformer.{name}.weight" if name in ("wte", "wpe") else f"transformer.{name}"


def as_weights(model: GPT, grads: bool = False) -> dict:
    """{name: NumPy array} of the parameters (or their gradients) in models.text's names and layout."""
    out = {}
    for name, p in model.transformer.named_parameters():
        source = p.grad if grads else p
        assert source is not None  # grads=True is asked for only after a backward pass
        t = source.detach().cpu().numpy()
        name = name.removesuffix(".weight") if name in ("wte.weight", "wpe.weight") else name
        out[name] = t.T if is_linear_weight(name, t) else t
    return out


def predict(model, idx):
    return model(idx)


def loss(model, idx, targets):
    logits = model(idx)  # (B, T, vocab)
    return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1))  # mean over B * T


def update(model, optimizer, x, y):
    """One AdamW step; returns the loss before the step (the same step as the MLP's, with this loss)."""
    return mlp_torch.update(model, optimizer, x, y, loss=loss)


def optimizer(model: GPT):
    """torch.optim.AdamW with nanoGPT's two groups: 2-D weights decay, biases and LayerNorms do not."""
    params = list(model.parameters())  # the tied weight once
    groups = [{"params": [p for p in params if decays(p)], "weight_decay": WEIGHT_DECAY},
              {"params": [p for p in params if not decays(p)], "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=model.config.learning_rate, betas=BETAS, eps=EPS)


# --- builders: a ready step on a backend ----------------------------------------------------------

def train_step(weights, config, x, y, be):
    """Each call does one AdamW step on the next of the batches x, y ((steps, B, T), cycled) and
    returns (model, loss); the model is updated in place."""
    model = init_params(weights, config, be.device)
    opt, step_fn = optimizer(model), be.compile(update)
    batches = [(tokens(be, xi), tokens(be, yi)) for xi, yi in zip(x, y, strict=False)]
    calls = 0

    def step():
        nonlocal calls
        xi, yi = batches[calls % len(batches)]
        calls += 1
        return model, step_fn(model, opt, xi, yi)

    return step


def tokens(be, ids):
    """Token ids (NumPy int32) on the device, as nn.Embedding takes them (int64)."""
    return be.put(ids).long()


def predict_fn(model, config, be):
    """The inference forward pass of `model` (no autograd graph): token ids on the device -> logits."""
    forward = be.compile(model.eval())

    def call(idx):
        with torch.no_grad():
            return forward(idx)

    return call


def predict_step(weights, config, idx, be):
    """Each call is one forward pass over idx (B, T); returns the (B, T, vocab) logits."""
    call, idx = predict_fn(init_params(weights, config, be.device), config, be), tokens(be, idx)
    return lambda: call(idx)
