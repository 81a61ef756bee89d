"""Check a gold record against every rule of the format, whoever produced it.

The builder validates each record it resolves, and tests/test_quote_gold.py validates the committed
gold/*.jsonl files, which are generated but could still be edited by hand or written by an older builder.
``validate_record`` states the rules once (ids, split, offsets matching the text, a flat layer of
well-formed spans, every quote link pointing at a span of the right label, entity types) and returns every
violation instead of stopping at the first.
"""

from __future__ import annotations

from gold_tool.schema import ENTITY_TYPES, KINDS, LABELS, TRAIN, AnnotationError, parse_id, split_of
from gold_tool.spans import at_boundary, check_span


def validate_record(rec: dict) -> list[str]:
    """Every rule a gold record must satisfy; returns the list of violations (empty = valid).

    Used by the builder and by tests/test_quote_gold.py on the written files.
    """
    errs: list[str] = []
    rid = rec.get("id", "?")
    try:
        source, _, _ = parse_id(rid)
    except AnnotationError as exc:
        return [str(exc)]
    if rec.get("source") != source:
        errs.append(f"{rid}: source {rec.get('source')!r} does not match the id")
    if rec.get("split") not in (TRAIN, split_of(rid)):
        errs.append(f"{rid}: split {rec.get('split')!r}: neither {TRAIN!r} (a training batch) nor what the id "
                    f"hashes to ({split_of(rid)!r})")
    text = rec.get("text")
    if not isinstance(text, str) or not text:
        return errs + [f"{rid}: missing text"]
    by_id = {}
    for sp in rec.get("spans", []):
        sid = sp.get("id")
        if sid in by_id:
            errs.append(f"{rid}: duplicate span id {sid}")
        by_id[sid] = sp
        s, e, label = sp.get("start"), sp.get("end"), sp.get("label")
        if label not in LABELS:
            errs.append(f"{rid}: {sid}: label {label!r} not in {LABELS}")
        if not (isinstance(s, int) and isinstance(e, int) and 0 <= s < e <= len(text)):
            errs.append(f"{rid}: {sid}: bad offsets ({s}, {e})")
            continue
        if text[s:e] != sp.get("text"):
            errs.append(f"{rid}: {sid}: text[{s}:{e}] = {text[s:e]!r} != {sp.get('text')!r}")
        try:
            check_span(text, s, e, label, f"{rid}: {sid}")
        except AnnotationError as exc:
            errs.append(str(exc))
    ordered = sorted(by_id.values(), key=lambda sp: (sp.get("start", 0), sp.get("end", 0)))
    for a, b in zip(ordered, ordered[1:]):
        if b.get("start", 0) < a.get("end", 0):
            errs.append(f"{rid}: spans {a.get('id')} and {b.get('id')} overlap (the span layer must be flat)")
    used = set()
    quote_spans = set()
    for qi, q in enumerate(rec.get("quotes", []), 1):
        qid = q.get("quote")
        if qid not in by_id or by_id[qid]["label"] != "QUOTE":
            errs.append(f"{rid}: quote #{qi}: quote {qid!r} is not a QUOTE span")
        if qid in quote_spans:
            errs.append(f"{rid}: quote #{qi}: QUOTE span {qid} used by two quotes")
        quote_spans.add(qid)
        for key, label in (("speaker", "SPEAKER"), ("cue", "CUE")):
            v = q.get(key)
            if v is not None and (v not in by_id or by_id[v]["label"] != label):
                errs.append(f"{rid}: quote #{qi}: {key} {v!r} is not a {label} span")
        used.update(v for v in (qid, q.get("speaker"), q.get("cue")) if v is not None)
        if q.get("kind") not in KINDS:
            errs.append(f"{rid}: quote #{qi}: kind {q.get('kind')!r} not in {KINDS}")
        ent = q.get("entity")
        if ent is not None:
            es, ee = ent.get("start"), ent.get("end")
            if not (isinstance(es, int) and isinstance(ee, int) and 0 <= es < ee <= len(text)):
                errs.append(f"{rid}: quote #{qi}: entity has bad offsets ({es}, {ee})")
            elif text[es:ee] != ent.get("text"):
                errs.append(f"{rid}: quote #{qi}: entity text mismatch {text[es:ee]!r} != {ent.get('text')!r}")
            elif not (at_boundary(text, es) and at_boundary(text, ee)):
                errs.append(f"{rid}: quote #{qi}: entity {ent.get('text')!r} cuts a word")
            if ent.get("type") not in ENTITY_TYPES:
                errs.append(f"{rid}: quote #{qi}: entity type {ent.get('type')!r} not in {ENTITY_TYPES}")
    unused = set(by_id) - used
    if unused:
        errs.append(f"{rid}: spans {sorted(unused)} belong to no quote")
    return errs
