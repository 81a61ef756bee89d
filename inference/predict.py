"""Word-level prediction: sentences of words in, one tag and one probability per word out.

This is the single code path from words to tags; the article tagger and corpus evaluation both call
``WordPredictor.predict``, so what is scored is what is shipped.  It solves four problems:

* The tokenizer needs normalised words and the encoder sees pieces; labels are read back from each
  word's first piece (``alignment.first_piece_index``); a word with no piece gets ``O``.
* Speed.  Padding is wasted compute and tiny forward passes waste the matrix units, so sentences are
  *packed*: several sentences share one row of up to ``pack_length`` positions, each laid out as
  ``[CLS] pieces [SEP]`` with its own position ids (restarting at 0) and a block-diagonal attention mask.
  A packed sentence therefore gets exactly the computation it would get alone (the model was trained on
  single sentences), and packing needs no adjacency: rows are filled best-fit, then sorted by length
  into batches, and results are restored to input order.
* Sentences longer than ``max_length`` pieces go through overlapping windows.  Each word takes its
  prediction from the window in which it lies farthest from a window edge (a sentence edge does not
  count as an edge), so every word is predicted exactly once and entities at seams are neither lost
  nor duplicated.
* Tags are decoded per sentence from the words' label probabilities (``decode.decode``): by default the
  best IOB2-valid sequence (Viterbi), which also closes weak one-word holes in long spans; ``"argmax"``
  takes each word's best label and repairs ill-formed ``O I-PER`` into IOB2.

A model trained with rule features (``inference/rule_features.py``) gets each piece's rule tag beside it:
``predict(sentences, rule_tags=...)`` takes the article-level tags the Tagger computed; without them each
sentence is read by the rules alone (corpus evaluation), and ``rule_features=False`` runs text only.

Labels come only from the checkpoint: ``config.id2label`` (NER) and ``config.quote_labels``.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from .alignment import align_features, first_piece_index
from .decode import DECODE_MODES, decode_flat, outside_rows
from .labels import OUTSIDE, continuation_map, repair_iob2  # repair_iob2 re-exported: part of this module's API
from .rule_features import sentence_rule_tags, uses_rule_features

#: Default positions per packed row: measured fastest for bert-base on CPU (docs/inference.md).
PACK_LENGTH = 128


@dataclass
class WordPrediction:
    """Predictions for one sentence, one entry per input word."""

    ner_tags: list[str]
    ner_scores: list[float]
    quote_tags: list[str] | None = None
    quote_scores: list[float] | None = None


def plan_windows(n_pieces: int, capacity: int, overlap: int) -> list[tuple[int, int]]:
    """Piece windows ``(start, end)`` of at most ``capacity`` covering ``range(n_pieces)``."""
    if n_pieces <= capacity:
        return [(0, n_pieces)]
    step = max(1, capacity - overlap)
    windows = []
    start = 0
    while start + capacity < n_pieces:
        windows.append((start, start + capacity))
        start += step
    # The last window ends at the sentence end and is full length, so it has left context too.
    windows.append((n_pieces - capacity, n_pieces))
    return windows


def assign_windows(firsts: Sequence[int | None], windows: Sequence[tuple[int, int]], n_pieces: int) -> list[int | None]:
    """For each word (by first-piece position), the window where it is farthest from a window edge."""
    out: list[int | None] = []
    lo = 0
    for p in firsts:
        if p is None:
            out.append(None)
            continue
        while windows[lo][1] <= p:  # first pieces increase with the word index
            lo += 1
        best, best_margin = lo, -1
        k = lo
        while k < len(windows) and windows[k][0] <= p:
            s, e = windows[k]
            left = p - s if s > 0 else n_pieces
            right = e - 1 - p if e < n_pieces else n_pieces
            if min(left, right) > best_margin:
                best, best_margin = k, min(left, right)
            k += 1
        out.append(best)
    return out


@dataclass
class _Segment:
    sentence: int
    ids: list[int]                  # pieces, without [CLS]/[SEP]
    targets: list[tuple[int, int]]  # (word index, position of its first piece in ids)
    feats: list[int] | None = None  # rule-feature id of each piece (models with rule features)


def pack_rows(costs: Sequence[int], capacity: int) -> list[list[int]]:
    """Best-fit-decreasing bin packing of items (by cost) into rows of ``capacity``; oversize items alone."""
    rows: list[list[int]] = []
    free: list[tuple[int, int]] = []  # (remaining capacity, row), sorted
    smallest = min(costs, default=0)
    for i in sorted(range(len(costs)), key=lambda i: -costs[i]):
        c = costs[i]
        j = bisect.bisect_left(free, (c, -1))
        if j < len(free):
            remaining, r = free.pop(j)
            rows[r].append(i)
        else:
            r, remaining = len(rows), max(capacity, c)
            rows.append([i])
        remaining -= c
        if remaining >= smallest:
            bisect.insort(free, (remaining, r))
    return rows


class WordPredictor:
    """Tags sentences of words with a parstag model (or anything with ``.bert``/``.classifier``/``.config``).

    device: where the model runs (the caller resolves "auto").  batch_size: rows per forward pass.
    max_length: pieces per sentence window including [CLS]/[SEP] (default: ``config.parstag["max_length"]``).
    pack_length: positions per packed row (default ``min(max_length, PACK_LENGTH)``); a batch holds at most
        ``batch_size`` rows and ``batch_size * pack_length`` positions.  ``pack=False``: one segment per row.
    window_overlap: pieces shared by consecutive windows of a long sentence (default half a window).
    decode: ``"viterbi"`` (default: the best IOB2-valid tag sequence) or ``"argmax"`` (module docstring).
    """

    def __init__(
        self,
        model,
        tokenizer,
        normalizer=None,
        device: str | torch.device = "cpu",
        batch_size: int = 16,
        max_length: int | None = None,
        *,
        pack: bool = True,
        pack_length: int | None = None,
        window_overlap: int | None = None,
        decode: str = "viterbi",
        rule_features: bool = True,
    ):
        if decode not in DECODE_MODES:
            raise ValueError(f"decode must be one of {', '.join(DECODE_MODES)}, not {decode!r}")
        self.decode = decode
        config = model.config
        self.model = model
        self.tokenizer = tokenizer
        self.normalizer = normalizer
        self.device = torch.device(device)
        self.batch_size = max(1, int(batch_size))
        parstag = getattr(config, "parstag", None) or {}
        limit = min(getattr(config, "max_position_embeddings", 512), tokenizer.model_max_length or 512)
        self.max_length = min(int(max_length or parstag.get("max_length") or limit), limit)
        if self.max_length < 3:
            raise ValueError(f"max_length must leave room for [CLS], [SEP] and one piece: {self.max_length}")
        self.pack = pack
        # Rows longer than needed cost attention (quadratic) for nothing; a longer segment gets a row of its own.
        self.pack_length = int(pack_length or min(self.max_length, PACK_LENGTH))
        capacity = self.max_length - 2
        self.window_overlap = min(capacity - 1, window_overlap if window_overlap is not None else capacity // 2)
        self.ner_labels = [config.id2label[i] for i in range(len(config.id2label))]
        self.quote_labels = list(getattr(config, "quote_labels", None) or []) or None
        self._outside = self.ner_labels.index(OUTSIDE) if OUTSIDE in self.ner_labels else 0
        self._quote_outside = (
            self.quote_labels.index(OUTSIDE) if self.quote_labels and OUTSIDE in self.quote_labels else 0
        )
        # Rule features: on when the model was trained with them, unless the caller asks for text only.
        self.rule_features = bool(rule_features) and uses_rule_features(config) and self.quote_labels is not None
        if self.rule_features:
            self._feature_ids = {lab: i for i, lab in enumerate(self.quote_labels)}
            self._feature_cont = continuation_map(self.quote_labels)
        self._norm_cache: dict[str, str] = {}
        model.eval()

    # -- text -> pieces ---------------------------------------------------------------------------------

    def _normalize(self, word: str) -> str:
        if self.normalizer is None:
            return word
        out = self._norm_cache.get(word)
        if out is None:
            if len(self._norm_cache) > 200_000:  # bounded memory on endless streams
                self._norm_cache.clear()
            out = self._norm_cache[word] = self.normalizer.normalize_word(word)
        return out

    def _segments(self, sentences: Sequence[Sequence[str]],
                  rule_tags: Sequence[Sequence[str]] | None = None) -> list[_Segment]:
        todo = [i for i, words in enumerate(sentences) if len(words)]
        if not todo:
            return []
        enc = self.tokenizer(
            [[self._normalize(w) for w in sentences[i]] for i in todo],
            is_split_into_words=True,
            add_special_tokens=False,
            return_attention_mask=False,
            return_token_type_ids=False,
            truncation=False,
            verbose=False,
        )
        capacity = self.max_length - 2
        segments: list[_Segment] = []
        for row, i in enumerate(todo):
            ids = enc["input_ids"][row]
            if not ids:
                continue
            firsts = first_piece_index(enc.word_ids(row), len(sentences[i]))
            feats = None
            if self.rule_features:
                tags = rule_tags[i] if rule_tags is not None else sentence_rule_tags(sentences[i])
                if len(tags) != len(sentences[i]):
                    raise ValueError(f"sentence {i}: {len(tags)} rule tags for {len(sentences[i])} words")
                word_feats = [self._feature_ids.get(t, self._quote_outside) for t in tags]
                feats = align_features(enc.word_ids(row), word_feats, self._feature_cont, self._quote_outside)
            if len(ids) <= capacity:
                targets = [(w, p) for w, p in enumerate(firsts) if p is not None]
                segments.append(_Segment(i, ids, targets, feats))
                continue
            windows = plan_windows(len(ids), capacity, self.window_overlap)
            owner = assign_windows(firsts, windows, len(ids))
            per_window: list[list[tuple[int, int]]] = [[] for _ in windows]
            for w, (p, k) in enumerate(zip(firsts, owner)):
                if k is not None:
                    per_window[k].append((w, p - windows[k][0]))
            for (s, e), targets in zip(windows, per_window):
                if targets:
                    segments.append(_Segment(i, ids[s:e], targets, feats[s:e] if feats is not None else None))
        return segments

    # -- pieces -> hidden states ------------------------------------------------------------------------

    def _encode(self, input_ids, mask, position_ids, rule_ids=None):
        if rule_ids is not None:
            return self.model.encode(input_ids, mask, rule_ids, position_ids=position_ids)
        return self.model.bert(
            input_ids=input_ids, attention_mask=mask, position_ids=position_ids, return_dict=True
        ).last_hidden_state

    def _run_batch(self, rows: list[list[_Segment]]):
        """Forward one batch of packed rows; returns [(segment, ner log-probs, quote log-probs or None)],
        one ``[targets, labels]`` tensor per head (on the CPU)."""
        tok = self.tokenizer
        cls_id, sep_id, pad_id = tok.cls_token_id, tok.sep_token_id, tok.pad_token_id or 0
        width = max(sum(len(s.ids) + 2 for s in row) for row in rows)
        ids, pos, block, feats = [], [], [], []
        gather_b, gather_t, where = [], [], []
        outside = self._quote_outside
        for b, row in enumerate(rows):
            r_ids, r_pos, r_block, r_feats = [], [], [], []
            for k, seg in enumerate(row):
                offset = len(r_ids) + 1
                r_ids += [cls_id, *seg.ids, sep_id]
                if self.rule_features:
                    r_feats += [outside, *seg.feats, outside]
                n = len(seg.ids) + 2
                r_pos += range(n)
                r_block += [k] * n
                gather_b += [b] * len(seg.targets)
                gather_t += [offset + p for _, p in seg.targets]
                where.append((seg, len(seg.targets)))
            pad = width - len(r_ids)
            # Padding forms its own block: no real token sees it, and its rows are never fully masked.
            ids.append(r_ids + [pad_id] * pad)
            pos.append(r_pos + [0] * pad)
            block.append(r_block + [-1] * pad)
            feats.append(r_feats + [outside] * pad)
        dev = self.device
        input_ids = torch.tensor(ids, device=dev)
        position_ids = torch.tensor(pos, device=dev)
        blocks = torch.tensor(block, device=dev)
        dtype = self._float_dtype()
        same = blocks[:, None, :, None] == blocks[:, None, None, :]
        mask = torch.zeros(same.shape, dtype=dtype, device=dev).masked_fill_(~same, torch.finfo(dtype).min)
        rule_ids = torch.tensor(feats, device=dev) if self.rule_features else None
        at_input = rule_ids is not None and self.model.rule_feature_mode == "input"
        hidden = self._encode(input_ids, mask, position_ids, rule_ids if at_input else None)
        gb, gt = torch.tensor(gather_b, device=dev), torch.tensor(gather_t, device=dev)
        picked = hidden[gb, gt]
        ner_lp = torch.log_softmax(self.model.classifier(picked).float(), dim=-1).cpu()
        quote_lp = None
        if self.quote_labels is not None and getattr(self.model, "quote_classifier", None) is not None:
            # With features at the head, the picked positions' own rule ids (quote_scores ignores them otherwise).
            logits = self.model.quote_scores(picked, rule_ids[gb, gt] if rule_ids is not None else None)
            quote_lp = torch.log_softmax(logits.float(), dim=-1).cpu()
        out, start = [], 0
        for seg, n in where:
            out.append((seg, ner_lp[start:start + n], quote_lp[start:start + n] if quote_lp is not None else None))
            start += n
        return out

    def _float_dtype(self) -> torch.dtype:
        emb = self.model.bert.embeddings.word_embeddings.weight
        return emb.dtype if emb.dtype.is_floating_point else torch.float32

    def _batches(self, rows: list[list[int]], costs: Sequence[int]):
        """Rows sorted by width (little padding), cut into batches of at most ``batch_size`` rows and
        ``batch_size * pack_length`` positions, so that rows of long sentences come fewer at a time."""
        widths = [sum(costs[i] for i in row) for row in rows]
        order = sorted(range(len(rows)), key=widths.__getitem__)
        budget = self.batch_size * self.pack_length
        batch: list[list[int]] = []
        for k in order:
            if batch and (len(batch) >= self.batch_size or (len(batch) + 1) * widths[k] > budget):
                yield batch
                batch = []
            batch.append(rows[k])
        if batch:
            yield batch

    # -- public -----------------------------------------------------------------------------------------

    def predict(self, sentences: Sequence[Sequence[str]],
                rule_tags: Sequence[Sequence[str]] | None = None) -> list[WordPrediction]:
        """One ``WordPrediction`` per sentence, in input order, one tag per word.  ``rule_tags``: the rules'
        quote-role tag of every word (``rule_features.rule_word_tags`` over the whole article), for a model
        with rule features; by default each sentence is read by the rules on its own."""
        has_quotes = self.quote_labels is not None
        lengths = [len(s) for s in sentences]
        offsets = [0]
        for n in lengths:
            offsets.append(offsets[-1] + n)
        # One row per word of all sentences end to end; a word no window predicts (no pieces) is O, score 0.
        ner_lp = outside_rows(offsets[-1], len(self.ner_labels), self._outside)
        quote_lp = outside_rows(offsets[-1], len(self.quote_labels), self._quote_outside) if has_quotes else None
        seen = torch.zeros(offsets[-1], dtype=torch.bool)

        segments = self._segments(sentences, rule_tags)
        if segments:
            costs = [len(s.ids) + 2 for s in segments]
            rows = pack_rows(costs, self.pack_length) if self.pack else [[i] for i in range(len(segments))]
            with torch.inference_mode():
                for batch in self._batches(rows, costs):
                    batch = [[segments[i] for i in row] for row in batch]
                    done = self._run_batch(batch)
                    where = torch.tensor([offsets[seg.sentence] + w for seg, _, _ in done for w, _ in seg.targets])
                    ner_lp[where] = torch.cat([n_lp for _, n_lp, _ in done])
                    if quote_lp is not None and done[0][2] is not None:
                        quote_lp[where] = torch.cat([q_lp for _, _, q_lp in done])
                    seen[where] = True

        unseen = (~seen).tolist()
        ner = decode_flat(ner_lp, lengths, self.ner_labels, self.decode)
        quotes = decode_flat(quote_lp, lengths, self.quote_labels, self.decode) if has_quotes else None
        out = []
        for i, (a, b) in enumerate(zip(offsets, offsets[1:])):
            tags, scores = ner[i]
            pred = WordPrediction(tags, self._unseen_zero(scores, unseen[a:b]))
            if has_quotes:
                q_tags, q_scores = quotes[i]
                pred.quote_tags, pred.quote_scores = q_tags, self._unseen_zero(q_scores, unseen[a:b])
            out.append(pred)
        return out

    @staticmethod
    def _unseen_zero(scores: list[float], unseen: list[bool]) -> list[float]:
        return [0.0 if no else s for s, no in zip(scores, unseen)] if any(unseen) else scores
