"""Help an annotator review resolved annotations by eye: inline view, missed-quote hints, pass-to-pass diff.

The builder proves a batch well-formed, not right.  These helpers back the review steps of the workflow in
GUIDELINES.md: ``show`` prints the text with every span marked and a table of links (``--show``), ``lint``
lists reporting words left outside every span (``--lint``), ``numbered_text`` numbers the lines to copy
literals from (``--text``), and ``diff`` counts span and link changes between two gold snapshots
(``--diff``), the figure reported for a second pass.
"""

from __future__ import annotations

import re
from collections import Counter


def show(record: dict) -> str:
    """The text with spans marked: [Qn ...], {Sn ...}, <Cn ...>, and a table of links."""
    text = record["text"]
    marks = {"QUOTE": ("[", "]"), "SPEAKER": ("{", "}"), "CUE": ("<", ">")}
    qnum = {q["quote"]: n for n, q in enumerate(record["quotes"], 1)}
    inserts = []
    for sp in record["spans"]:
        o, c = marks[sp["label"]]
        tag = sp["id"] + (f"=Q{qnum[sp['id']]}" if sp["id"] in qnum else "")
        inserts.append((sp["start"], 1, f"{o}{tag} "))
        inserts.append((sp["end"], 0, f" {c}"))
    out, pos = [], 0
    for at, _, s in sorted(inserts, key=lambda t: (t[0], t[1])):
        out.append(text[pos:at])
        out.append(s)
        pos = at
    out.append(text[pos:])
    lines = ["".join(out), "", f"{record['id']} ({record['split']}): {len(record['quotes'])} quote(s)"]
    by_id = {sp["id"]: sp for sp in record["spans"]}
    for n, q in enumerate(record["quotes"], 1):
        sp = by_id[q["speaker"]]["text"] if q["speaker"] else None
        cue = by_id[q["cue"]]["text"] if q["cue"] else None
        ent = f"{q['entity']['text']}/{q['entity']['type']}@{q['entity']['start']}" if q["entity"] else None
        qt = by_id[q["quote"]]["text"]
        qt = qt if len(qt) < 50 else qt[:22] + " … " + qt[-22:]
        lines.append(f"  Q{n} {q['kind']:8} speaker={sp} cue={cue} entity={ent} | {qt}")
    return "\n".join(lines)


def diff(old: list[dict], new: list[dict]) -> dict:
    """Changes between two gold snapshots: spans added/removed/changed, quote links changed."""
    o = {r["id"]: r for r in old}
    n = {r["id"]: r for r in new}
    res = Counter()
    for aid in sorted(set(o) | set(n)):
        a, b = o.get(aid), n.get(aid)
        sa = {(s["start"], s["end"], s["label"]) for s in a["spans"]} if a else set()
        sb = {(s["start"], s["end"], s["label"]) for s in b["spans"]} if b else set()
        removed, added = sa - sb, sb - sa
        changed = 0
        for r in sorted(removed):
            m = next((x for x in sorted(added) if x[2] == r[2] and x[0] < r[1] and r[0] < x[1]), None)
            if m:
                added.discard(m)
                changed += 1
        res["spans_changed"] += changed
        res["spans_removed"] += len(removed) - changed
        res["spans_added"] += len(added)

        def links(rec):
            if not rec:
                return {}
            by = {s["id"]: (s["start"], s["end"]) for s in rec["spans"]}
            return {by[q["quote"]]: (by.get(q["speaker"]), by.get(q["cue"]),
                                     (q["entity"]["start"], q["entity"]["end"], q["entity"]["type"])
                                     if q["entity"] else None, q["kind"]) for q in rec["quotes"]}

        la, lb = links(a), links(b)
        for key in set(la) & set(lb):
            fa, fb = la[key], lb[key]
            res["speaker_links_changed"] += fa[0] != fb[0]
            res["cue_links_changed"] += fa[1] != fb[1]
            res["entities_changed"] += fa[2] != fb[2]
            res["kinds_changed"] += fa[3] != fb[3]
    res["total"] = sum(v for k, v in res.items())
    return dict(res)


# Reporting verbs and phrases that usually mark an attribution (both ي/ی and ك/ک spellings); --lint lists
# those that fall outside every span, for the annotator to check by eye (many are rightly unannotated).
CUE_HINT = re.compile(
    r"(?<![\w\u200c])(گفت|می ?گوید|افزود|اظهار ?داشت|اظهار كرد|اظهار کرد|تصريح|تصریح|اعلام|تأكيد|تاكيد|تأکید|"
    r"تاکید|خاطر ?نشان|ادامه داد|هشدار|نوشت|معتقد|به گفته|به نقل از|بيان|بیان|عنوان كرد|عنوان کرد|رد كرد|"
    r"رد کرد|خبر داد|يادآور|یادآور)(?![\w\u200c])"
)


def lint(record: dict) -> list[str]:
    """Cue-like words outside every span, with 30 characters of context each side."""
    text, out = record["text"], []
    covered = [(sp["start"], sp["end"]) for sp in record["spans"]]
    for m in CUE_HINT.finditer(text):
        if any(s <= m.start() < e for s, e in covered):
            continue
        out.append(f"  @{m.start()}: ...{text[max(0, m.start() - 30):m.end() + 30]}...".replace("\n", " / "))
    return out


def numbered_text(text: str) -> str:
    return "\n".join(f"[{i}] {line}" for i, line in enumerate(text.split("\n")))
