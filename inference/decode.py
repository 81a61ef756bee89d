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


def outside_rows(n_words: int, n_labels: int, outside: int) -> torch.Tensor:
    """Log-probability rows for words no model output covers (no piece, cut off): surely ``outside``."""
    rows = torch.full((n_words, n_labels), float("-inf"))
    rows[:, outside] = 0.0
    return rows


def _flat(log_probs: Sequence[torch.Tensor], n_labels: int) -> tuple[torch.Tensor, list[int]]:
    lengths = [len(lp) for lp in log_probs]
    flat = torch.cat([lp.reshape(-1, n_labels) for lp in log_probs]) if log_probs else torch.zeros(0, n_labels)
    return flat, lengths


def _cut(values: list, lengths: list[int]) -> list[list]:
    out, at = [], 0
    for n in lengths:
        out.append(values[at:at + n])
        at += n
    return out


def _best_paths(flat: torch.Tensor, lengths: list[int], labels: Sequence[str]) -> torch.Tensor:
    """The flat best valid label id per word, all sentences end to end (``lengths`` words each).

    Where a sentence's argmax is already valid it is the answer (it maximises every word on its own), and
    that is most sentences; only the others are decoded, in batches of similar length.
    """
    path = flat.argmax(dim=-1)
    if not len(path):
        return path
    start, trans = iob2_constraints(labels)
    offsets = torch.tensor([0, *lengths]).cumsum(0)
    first = torch.zeros(len(path), dtype=torch.bool)
    first[offsets[:-1][torch.tensor(lengths) > 0]] = True
    previous = torch.cat([path[:1], path[:-1]])
    allowed = torch.where(first, torch.isfinite(start[path]), torch.isfinite(trans[previous, path]))
    sentence_of = torch.repeat_interleave(torch.arange(len(lengths)), torch.tensor(lengths))
    todo = sorted(set(sentence_of[~allowed].tolist()), key=lengths.__getitem__)
    for k in range(0, len(todo), _BUCKET):
        bucket = todo[k:k + _BUCKET]
        spans = [(int(offsets[i]), int(offsets[i + 1])) for i in bucket]
        for (a, b), best in zip(spans, _viterbi_batch([flat[a:b] for a, b in spans], start, trans)):
            path[a:b] = best
    return path


def viterbi(log_probs: Sequence[torch.Tensor], labels: Sequence[str]) -> list[list[int]]:
    """Best IOB2-valid label ids for each sentence; ``log_probs[i]`` is ``[words, labels]``."""
    flat, lengths = _flat(log_probs, len(labels))
    return _cut(_best_paths(flat, lengths, labels).tolist(), lengths)


_BUCKET = 64  # sentences decoded together; sorted by length, so a bucket pads little


def _viterbi_batch(log_probs: Sequence[torch.Tensor], start: torch.Tensor,
                   trans: torch.Tensor) -> list[torch.Tensor]:  # fmt: skip
    """Viterbi over sentences padded to the longest, one vectorised step per word position."""
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
    return [path[row, : int(n)] for row, n in enumerate(lengths)]


def decode(log_probs: Sequence[torch.Tensor], labels: Sequence[str],
           mode: str = "viterbi") -> list[tuple[list[str], list[float]]]:  # fmt: skip
    """``[(tags, scores)]`` per sentence: well-formed IOB2 tags and each word's probability of its tag."""
    return decode_flat(*_flat(log_probs, len(labels)), labels, mode)


def decode_flat(flat: torch.Tensor, lengths: list[int], labels: Sequence[str],
                mode: str = "viterbi") -> list[tuple[list[str], list[float]]]:  # fmt: skip
    """``decode`` for sentences already end to end in one ``[words, labels]`` tensor, ``lengths`` words each."""
    if mode not in DECODE_MODES:
        raise ValueError(f"decode must be one of {', '.join(DECODE_MODES)}, not {mode!r}")
    path = _best_paths(flat, lengths, labels) if mode == "viterbi" else flat.argmax(dim=-1)
    scores = flat.gather(1, path[:, None]).squeeze(1).exp().tolist() if len(path) else []
    tags = _cut([labels[k] for k in path.tolist()], lengths)
    if mode == "argmax":  # Viterbi's tags are valid already; argmax's are repaired
        tags = [repair_iob2(t) for t in tags]
    return list(zip(tags, _cut(scores, lengths)))
