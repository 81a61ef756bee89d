"""Word tags from per-word label probabilities: IOB2-constrained Viterbi, or argmax and repair.

The problem.  A token classifier scores each word on its own, so its argmax can be ill-formed
(``O I-QUOTE``) and, worse, a long span gets holes: one word inside a 30-word quote where ``O`` wins by a
hair splits the quote in two, and the second half starts with an ``I`` that the repair turns into a new
``B``.  A small model does this often on long QUOTE spans.  Viterbi decoding under the IOB2 constraints
(``I-X`` only after ``B-X`` or ``I-X``, never first) picks the most probable *well-formed* sequence: to
keep the hole as ``O`` it must pay for a ``B`` on the next word, which the model gave little probability,
so a weak hole is closed instead.  No transition is learned: the constraints are the only change, so a
confident model decodes exactly as its argmax does.

Measured on the quote gold dev with the quickstart model (docs/inference.md): quote F1 at 50% overlap,
exact F1, speaker accuracy and end-to-end F1 all rise; the NER head is decoded the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .labels import repair_iob2, split_tag

#: Decoding modes of ``WordPredictor`` (``decode=``).
DECODE_MODES = ("viterbi", "argmax")


def iob2_constraints(labels: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """``(start, transitions)``: 0 where allowed, -inf where not; ``transitions[previous, next]``.

    Labels that are not IOB2 (no ``B-``/``I-`` prefix, e.g. a custom label) are allowed anywhere.
    """
    n = len(labels)
    start = torch.zeros(n)
    trans = torch.zeros(n, n)
    parsed = []
    for label in labels:
        try:
            parsed.append(split_tag(label))
        except ValueError:
            parsed.append((None, None))
    for j, (prefix, etype) in enumerate(parsed):
        if prefix != "I":
            continue
        start[j] = float("-inf")
        for i, (p_prev, t_prev) in enumerate(parsed):
            if not (p_prev in ("B", "I") and t_prev == etype):
                trans[i, j] = float("-inf")
    return start, trans


def viterbi(log_probs: Sequence[torch.Tensor], labels: Sequence[str]) -> list[list[int]]:
    """Best IOB2-valid label ids for each sentence; ``log_probs[i]`` is ``[words, labels]``.

    Where a sentence's argmax is already valid it is the answer (it maximises every word on its own), and
    that is most sentences; the others are decoded in batches of similar length, one vectorised step per
    word position.
    """
    start, trans = iob2_constraints(labels)
    out: list[list[int]] = []
    todo = []
    for i, lp in enumerate(log_probs):
        path = lp.argmax(dim=-1) if len(lp) else torch.zeros(0, dtype=torch.long)
        ok = len(path) == 0 or (bool(torch.isfinite(start[path[0]]))
                                and bool(torch.isfinite(trans[path[:-1], path[1:]]).all()))
        out.append(path.tolist())
        if not ok:
            todo.append(i)
    todo.sort(key=lambda i: len(log_probs[i]))
    for k in range(0, len(todo), _BUCKET):
        bucket = todo[k:k + _BUCKET]
        for i, path in zip(bucket, _viterbi_batch([log_probs[i] for i in bucket], start, trans)):
            out[i] = path
    return out


_BUCKET = 64  # sentences decoded together; sorted by length, so a bucket pads little


def _viterbi_batch(log_probs: Sequence[torch.Tensor], start: torch.Tensor, trans: torch.Tensor) -> list[list[int]]:
    n_labels = trans.shape[0]
    lengths = torch.tensor([len(lp) for lp in log_probs])
    longest = int(lengths.max())
    lp = torch.zeros(len(log_probs), longest, n_labels)
    for row, x in enumerate(log_probs):
        lp[row, : len(x)] = x
    identity = torch.arange(n_labels).expand(len(log_probs), n_labels)
    back = torch.empty(len(log_probs), longest, n_labels, dtype=torch.long)
    delta = lp[:, 0] + start
    for t in range(1, longest):
        best, arg = (delta[:, :, None] + trans).max(dim=1)
        active = (lengths > t)[:, None]
        # A finished sentence keeps its scores and points back to itself, so padding changes nothing.
        delta = torch.where(active, best + lp[:, t], delta)
        back[:, t] = torch.where(active, arg, identity)
    path = torch.empty(len(log_probs), longest, dtype=torch.long)
    path[:, -1] = delta.argmax(dim=-1)
    for t in range(longest - 1, 0, -1):
        path[:, t - 1] = back[:, t].gather(1, path[:, t : t + 1]).squeeze(1)
    return [path[row, : int(n)].tolist() for row, n in enumerate(lengths)]


def decode(log_probs: Sequence[torch.Tensor], labels: Sequence[str],
           mode: str = "viterbi") -> list[tuple[list[str], list[float]]]:  # fmt: skip
    """``[(tags, scores)]`` per sentence: well-formed IOB2 tags and each word's probability of its tag."""
    if mode not in DECODE_MODES:
        raise ValueError(f"decode must be one of {', '.join(DECODE_MODES)}, not {mode!r}")
    if mode == "viterbi":
        ids = viterbi(log_probs, labels)
    else:
        ids = [lp.argmax(dim=-1).tolist() if len(lp) else [] for lp in log_probs]
    out = []
    for lp, path in zip(log_probs, ids):
        picked = lp.gather(1, torch.tensor(path, dtype=torch.long)[:, None]) if path else torch.zeros(0, 1)
        scores = picked.squeeze(1).exp().tolist()
        out.append((repair_iob2([labels[k] for k in path]), scores))
    return out
