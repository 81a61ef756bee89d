"""The quote linker on role spans as a sentence-wise tagger would give them (no rules involved)."""

import pytest

from parstag.inference.quote_speakers import drop_non_mentions
from parstag.inference.quote_text import closed_class_only, looks_like_clause
from parstag.inference.quotes import (description_type, is_anonymous, is_pronoun, link_quotes, quotes_to_record,
                                      trim_span)
from parstag.training.quote_eval import record_to_quotes


def span(text, s, label, occ=1, score=1.0):
    """Role span of the ``occ``-th occurrence of ``s`` in ``text``."""
    i = -1
    for _ in range(occ):
        i = text.index(s, i + 1)
    return {"label": label, "start": i, "end": i + len(s), "score": score}


def ent(text, s, etype="PER", occ=1):
    r = span(text, s, "", occ)
    return {"type": etype, "start": r["start"], "end": r["end"], "text": s}


def check_offsets(text, quotes):
    for q in quotes:
        for key in ("quote", "speaker", "cue", "speaker_entity"):
            if q[key] is not None:
                assert text[q[key]["start"]:q[key]["end"]] == q[key]["text"]


def test_sentence_pieces_of_a_colon_quote_come_out_as_one_quote():
    text = "رضا فروزانی اظهار داشت: سایپا را در شرایط بحرانی تحویل گرفتیم. روند رو به رشدی خواهیم داشت."
    roles = [span(text, "رضا فروزانی", "SPEAKER"), span(text, "اظهار داشت", "CUE"),
             span(text, "سایپا را در شرایط بحرانی تحویل گرفتیم.", "QUOTE", score=0.9),
             span(text, "روند رو به رشدی خواهیم داشت.", "QUOTE", score=0.7)]
    [q] = link_quotes(text, roles, [ent(text, "رضا فروزانی")])
    check_offsets(text, [q])
    assert q["quote"]["text"] == "سایپا را در شرایط بحرانی تحویل گرفتیم. روند رو به رشدی خواهیم داشت."
    assert (q["speaker"]["text"], q["cue"]["text"], q["kind"]) == ("رضا فروزانی", "اظهار داشت", "direct")
    assert q["speaker_entity"]["text"] == "رضا فروزانی" and q["speaker_entity"]["type"] == "PER"
    assert abs(q["score"] - (0.9 + 0.7 + 1 + 1) / 4) < 1e-6


@pytest.mark.parametrize("second, joined", [
    ("هیچ تیمی در این سطح شانس ندارد.", False),          # a sentence of its own: the reporter's, not the clause's
    ("زیرا هیچ تیمی در این سطح شانس ندارد.", True),      # guidelines 3.5: the next sentence plainly continues it
    ("چرا که هیچ تیمی در این سطح شانس ندارد.", True),
])
def test_a_reported_clause_ends_with_its_sentence_unless_the_next_continues_it(second, joined):
    text = f"جرارد گفت انگلیس جزو بخت‌های قهرمانی نیست. {second}"
    roles = [span(text, "جرارد", "SPEAKER"), span(text, "گفت", "CUE"),
             span(text, "انگلیس جزو بخت‌های قهرمانی نیست", "QUOTE"), span(text, second.rstrip("."), "QUOTE")]
    quotes = link_quotes(text, roles, [])
    assert quotes[0]["quote"]["text"] == ("انگلیس جزو بخت‌های قهرمانی نیست. " + second.rstrip(".") if joined
                                          else "انگلیس جزو بخت‌های قهرمانی نیست")
    assert quotes[0]["kind"] == "indirect" and len(quotes) == 1  # the lone second piece has no attribution
    # After a colon the same two pieces are one quote: a colon quote runs on (3.2).
    colon = text.replace("گفت انگلیس", "گفت: انگلیس")
    [q] = link_quotes(colon, [span(colon, "جرارد", "SPEAKER"), span(colon, "گفت", "CUE"),
                              span(colon, "انگلیس جزو بخت‌های قهرمانی نیست.", "QUOTE"), span(colon, second, "QUOTE")])
    assert q["quote"]["text"].endswith(second) and q["kind"] == "direct"


def test_pieces_separated_by_a_new_attribution_stay_apart():
    text = "وزیر گفت: مصرف برق رکورد زد. وی افزود: مردم صرفه‌جویی کنند."
    roles = [span(text, "وزیر", "SPEAKER"), span(text, "گفت", "CUE"), span(text, "مصرف برق رکورد زد.", "QUOTE"),
             span(text, "وی", "SPEAKER"), span(text, "افزود", "CUE"), span(text, "مردم صرفه‌جویی کنند.", "QUOTE")]
    a, b = link_quotes(text, roles, [])
    assert (a["speaker"]["text"], a["cue"]["text"]) == ("وزیر", "گفت")
    assert (b["speaker"]["text"], b["cue"]["text"]) == ("وی", "افزود")


def test_cue_after_the_quote_and_speaker_between():
    text = "«ما تسلیم فشارها نمی‌شویم»، وزیر امور خارجه در پایان گفت."
    roles = [span(text, "«ما تسلیم فشارها نمی‌شویم»", "QUOTE"), span(text, "وزیر امور خارجه", "SPEAKER"),
             span(text, "گفت", "CUE")]
    [q] = link_quotes(text, roles)
    assert q["quote"]["text"] == "ما تسلیم فشارها نمی‌شویم"  # marks trimmed off
    assert (q["speaker"]["text"], q["cue"]["text"], q["kind"]) == ("وزیر امور خارجه", "گفت", "direct")


def test_be_gofte_speaker_follows_the_cue():
    text = "به گفته سخنگوی پلیس، سه نفر بازداشت شده‌اند."
    roles = [span(text, "به گفته", "CUE"), span(text, "سخنگوی پلیس", "SPEAKER"),
             span(text, "سه نفر بازداشت شده‌اند", "QUOTE")]
    [q] = link_quotes(text, roles)
    assert (q["speaker"]["text"], q["kind"]) == ("سخنگوی پلیس", "indirect")


def test_shared_speaker_of_ba_bayan_inke_and_the_main_cue():
    text = "وی با بیان اینکه بودجه کافی نیست، افزود: مجلس باید رسیدگی کند."
    roles = [span(text, "وی", "SPEAKER"), span(text, "با بیان اینکه", "CUE"), span(text, "بودجه کافی نیست", "QUOTE"),
             span(text, "افزود", "CUE"), span(text, "مجلس باید رسیدگی کند.", "QUOTE")]
    a, b = link_quotes(text, roles)
    assert a["cue"]["text"] == "با بیان اینکه" and a["kind"] == "indirect"
    assert b["cue"]["text"] == "افزود" and b["kind"] == "direct"
    assert a["speaker"] == b["speaker"] == {"start": 0, "end": 2, "text": "وی"}


def test_pronoun_and_description_resolve_to_the_nearest_fitting_earlier_entity():
    text = ("مایک پمپئو با لاوروف در مسکو دیدار کرد.\nوی گفت: گفت‌وگوها سازنده بود.\n"
            "این مقام آمریکایی افزود: تحریم‌ها ادامه دارد.")
    ents = [ent(text, "مایک پمپئو"), ent(text, "لاوروف"), ent(text, "مسکو", "LOC")]
    roles = [span(text, "وی", "SPEAKER"), span(text, "گفت", "CUE", occ=2), span(text, "گفت‌وگوها سازنده بود.", "QUOTE"),
             span(text, "این مقام آمریکایی", "SPEAKER"), span(text, "افزود", "CUE"),
             span(text, "تحریم‌ها ادامه دارد.", "QUOTE")]
    a, b = link_quotes(text, roles, ents)
    check_offsets(text, [a, b])
    assert a["speaker_entity"]["text"] == "لاوروف"  # the nearest earlier PER (no speaker quoted yet)
    assert b["speaker_entity"]["text"] == "لاوروف"  # the speaker just quoted fits "این مقام"


def test_continuation_paragraph_inherits_the_entity_not_the_mention():
    text = "علی دایی گفت: بازی سختی بود.\nما در نیمه دوم بهتر بازی کردیم.\nبازی بعدی جمعه است."
    roles = [span(text, "علی دایی", "SPEAKER"), span(text, "گفت", "CUE"), span(text, "بازی سختی بود.", "QUOTE"),
             span(text, "ما در نیمه دوم بهتر بازی کردیم.", "QUOTE")]
    a, b = link_quotes(text, roles, [ent(text, "علی دایی")])
    assert b["speaker"] is None and b["cue"] is None and b["kind"] == "direct"
    assert b["speaker_entity"] == a["speaker_entity"] == {"start": 0, "end": 8, "text": "علی دایی", "type": "PER"}


def test_subject_less_cue_inherits_and_anonymous_pronoun_has_no_entity():
    text = ("یک منبع آگاه گفت: مذاکرات متوقف شد.\nوی افزود: طرفین توافق نکردند.\n"
            "علی لاریجانی گفت: خبری نیست.\nافزود: صبر کنید.")
    roles = [span(text, "یک منبع آگاه", "SPEAKER"), span(text, "گفت", "CUE"), span(text, "مذاکرات متوقف شد.", "QUOTE"),
             span(text, "وی", "SPEAKER"), span(text, "افزود", "CUE"), span(text, "طرفین توافق نکردند.", "QUOTE"),
             span(text, "علی لاریجانی", "SPEAKER"), span(text, "گفت", "CUE", occ=2), span(text, "خبری نیست.", "QUOTE"),
             span(text, "افزود", "CUE", occ=2), span(text, "صبر کنید.", "QUOTE")]
    a, b, c, d = link_quotes(text, roles, [ent(text, "علی لاریجانی")])
    assert a["speaker_entity"] is None and b["speaker_entity"] is None
    assert d["speaker"] is None and d["cue"]["text"] == "افزود" and d["speaker_entity"]["text"] == "علی لاریجانی"


def test_arabic_letters_and_offsets_into_the_original():
    text = "وي تاكيد كرد كه دولت از بخش خصوصي حمايت مي‌كند."
    roles = [span(text, "وي", "SPEAKER"), span(text, "تاكيد كرد", "CUE"),
             span(text, " دولت از بخش خصوصي حمايت مي‌كند", "QUOTE")]  # white space is trimmed
    [q] = link_quotes(text, roles)
    check_offsets(text, [q])
    assert q["quote"]["text"] == "دولت از بخش خصوصي حمايت مي‌كند" and is_pronoun(q["speaker"]["text"])


def test_helpers():
    assert is_pronoun("وي") and is_pronoun("او") and not is_pronoun("وزیر")
    assert is_anonymous("یک منبع آگاه") and is_anonymous("این منبع") and not is_anonymous("این مقام آمریکایی")
    assert description_type("سرمربی تیم") == "PER" and description_type("این سازمان") == "ORG"
    assert description_type("رضا فروزانی") is None
    text = "گفت: «سلام» "
    assert trim_span(text, 5, 12, "QUOTE") == (6, 10)


def test_record_round_trip():
    text = "وی با بیان اینکه بودجه کافی نیست، افزود: مجلس باید رسیدگی کند."
    roles = [span(text, "وی", "SPEAKER"), span(text, "با بیان اینکه", "CUE"), span(text, "بودجه کافی نیست", "QUOTE"),
             span(text, "افزود", "CUE"), span(text, "مجلس باید رسیدگی کند.", "QUOTE")]
    quotes = link_quotes(text, roles)
    rec = quotes_to_record("fars-1-0001", "fars", "silver", text, quotes)
    assert [s["label"] for s in rec["spans"]] == ["SPEAKER", "CUE", "QUOTE", "CUE", "QUOTE"]
    assert rec["quotes"][0]["speaker"] == rec["quotes"][1]["speaker"] == "s1"
    back = record_to_quotes(rec)
    assert [(q["quote"], q["speaker"], q["cue"], q["kind"]) for q in back] == \
           [(q["quote"], q["speaker"], q["cue"], q["kind"]) for q in quotes]


def test_pieces_around_a_colon_are_two_quotes():
    text = "مکوندی اعلام کرد مهاجم تیم جدا می‌شود: باید اعلام کنم که او از تیم جدا شده است."
    roles = [span(text, "مکوندی", "SPEAKER"), span(text, "اعلام کرد", "CUE"),
             span(text, "مهاجم تیم جدا می‌شود", "QUOTE"),
             span(text, "باید اعلام کنم که او از تیم جدا شده است.", "QUOTE")]
    a, b = link_quotes(text, roles)
    assert (a["kind"], b["kind"]) == ("indirect", "direct") and a["speaker"] == b["speaker"]


def test_arbitrary_role_spans_never_break_the_linker():
    # What an untrained quote head may emit: overlapping, nested, empty, punctuation-only spans.
    import random

    text = ("وزیر گفت: «ما آماده‌ایم.»\nوی افزود، با بیان اینکه «بودجه» کم است: نه؟\n\n"
            "«به گفته» او، ... «» . : ،")
    rng = random.Random(0)
    ents = [ent(text, "وزیر"), {"type": "LOC", "start": 0, "end": 3}]
    for _ in range(300):
        roles = []
        for _ in range(rng.randrange(8)):
            s = rng.randrange(len(text))
            roles.append({"label": rng.choice(["QUOTE", "SPEAKER", "CUE", "O"]), "start": s,
                          "end": min(len(text), s + rng.randrange(30)), "score": rng.random()})
        # The rules' QUOTE runs (flat, so never overlapping) mend the pieces' bounds: any runs at all.
        cuts = sorted(rng.sample(range(len(text) + 1), 2 * rng.randrange(4)))
        runs = list(zip(cuts[::2], cuts[1::2]))
        for kwargs in ({}, {"rule_quotes": runs, "min_score": rng.random(), "own_min_score": rng.random()}):
            quotes = link_quotes(text, roles, ents, **kwargs)
            check_offsets(text, quotes)
            assert all(q["quote"]["text"] and q["kind"] in ("direct", "indirect") for q in quotes)


def test_a_colon_quote_runs_on_to_the_paragraph_end_over_untagged_sentences():
    # The tagger saw no colon in the second and third sentence and tagged nothing there.
    text = "وزیر نیرو گفت: مصرف برق رکورد زد. این رقم بی‌سابقه است. باید صرفه‌جویی کنیم.\nجمله بعدی خبر است."
    roles = [span(text, "وزیر نیرو", "SPEAKER"), span(text, "گفت", "CUE"), span(text, "مصرف برق رکورد زد.", "QUOTE")]
    [q] = link_quotes(text, roles, [])
    assert q["quote"]["text"] == "مصرف برق رکورد زد. این رقم بی‌سابقه است. باید صرفه‌جویی کنیم."
    assert q["kind"] == "direct"


def test_a_colon_quote_stops_before_the_sentence_of_the_next_attribution():
    text = "وزیر گفت: مصرف برق رکورد زد. این رقم بی‌سابقه است. وی افزود: مردم صرفه‌جویی کنند."
    roles = [span(text, "وزیر", "SPEAKER"), span(text, "گفت", "CUE"), span(text, "مصرف برق رکورد زد.", "QUOTE"),
             span(text, "وی", "SPEAKER"), span(text, "افزود", "CUE"), span(text, "مردم صرفه‌جویی کنند.", "QUOTE")]
    a, b = link_quotes(text, roles, [])
    assert a["quote"]["text"] == "مصرف برق رکورد زد. این رقم بی‌سابقه است."
    assert b["quote"]["text"] == "مردم صرفه‌جویی کنند." and b["cue"]["text"] == "افزود"


def test_a_hole_in_a_quote_is_filled_but_two_marked_passages_stay_two():
    text = "وزیر گفت که مصرف برق در تابستان امسال رکورد زد."
    roles = [span(text, "وزیر", "SPEAKER"), span(text, "گفت", "CUE"), span(text, "مصرف برق در", "QUOTE"),
             span(text, "امسال رکورد زد.", "QUOTE")]
    [q] = link_quotes(text, roles, [])
    assert q["quote"]["text"] == "مصرف برق در تابستان امسال رکورد زد." and q["kind"] == "indirect"
    text = "وزیر گفت «مصرف برق رکورد زد» و «باید صرفه‌جویی کنیم»."
    roles = [span(text, "وزیر", "SPEAKER"), span(text, "گفت", "CUE"), span(text, "مصرف برق رکورد زد", "QUOTE"),
             span(text, "باید صرفه‌جویی کنیم", "QUOTE")]
    assert [q["quote"]["text"] for q in link_quotes(text, roles, [])] == ["مصرف برق رکورد زد", "باید صرفه‌جویی کنیم"]


def test_fragments_and_unattributed_content_are_dropped():
    text = "سقوط قیمت نفت در بازار جهانی\n\nوزیر نفت با اشاره به بازار گفت که قیمت‌ها پایین آمده است."
    roles = [span(text, "سقوط قیمت نفت در بازار جهانی", "QUOTE"),  # a headline nobody is said to say
             span(text, "وزیر نفت", "SPEAKER"), span(text, "بازار", "QUOTE", occ=2),  # a one-word fragment
             span(text, "گفت", "CUE"), span(text, "قیمت‌ها پایین آمده است.", "QUOTE")]
    [q] = link_quotes(text, roles, [])
    assert q["quote"]["text"] == "قیمت‌ها پایین آمده است." and q["speaker"]["text"] == "وزیر نفت"
    # Short but direct by form: kept.
    text = "سرمربی گفت: آماده‌ایم."
    roles = [span(text, "سرمربی", "SPEAKER"), span(text, "گفت", "CUE"), span(text, "آماده‌ایم.", "QUOTE")]
    assert [q["quote"]["text"] for q in link_quotes(text, roles, [])] == ["آماده‌ایم."]


def test_a_missed_speaker_is_the_cues_subject_from_the_ner_head_or_a_pronoun():
    text = "به گزارش خبرگزاری فارس، علی وارسته با اشاره به تهران گفت که خدمات بانکی گسترش می‌یابد."
    roles = [span(text, "گفت", "CUE"), span(text, "خدمات بانکی گسترش می‌یابد.", "QUOTE")]
    ents = [ent(text, "خبرگزاری فارس", "ORG"), ent(text, "علی وارسته"), ent(text, "تهران", "LOC")]
    [q] = link_quotes(text, roles, ents)  # the byline's source and the LOC are passed over
    assert q["speaker"]["text"] == "علی وارسته" and q["speaker_entity"]["text"] == "علی وارسته"
    text = "مصرف برق بالا رفت. وی در ادامه افزود: مردم باید صرفه‌جویی کنند."
    roles = [span(text, "افزود", "CUE"), span(text, "مردم باید صرفه‌جویی کنند.", "QUOTE")]
    [q] = link_quotes(text, roles, [])
    assert q["speaker"]["text"] == "وی"
    # Not across a sentence end: nobody in the cue's sentence, so no speaker.
    text = "علی وارسته به تهران رفت. در ادامه گفت که خدمات بانکی گسترش می‌یابد."
    roles = [span(text, "گفت", "CUE"), span(text, "خدمات بانکی گسترش می‌یابد.", "QUOTE")]
    [q] = link_quotes(text, roles, [ent(text, "علی وارسته")])
    assert q["speaker"] is None


def test_the_addressee_is_not_the_speaker_and_a_marked_name_does_not_cut_a_quote():
    text = "منابع آگاه به سی‌ان‌ان گفتند که امیدهای «دونالد ترامپ»، رئیس‌جمهور آمریکا، از دست رفته است."
    roles = [span(text, "سی‌ان‌ان", "SPEAKER"), span(text, "گفتند", "CUE"),
             span(text, "امیدهای", "QUOTE"), span(text, "، رئیس‌جمهور آمریکا، از دست رفته است.", "QUOTE")]
    [q] = link_quotes(text, roles, [ent(text, "سی‌ان‌ان", "ORG"), ent(text, "دونالد ترامپ")])
    assert q["quote"]["text"] == "امیدهای «دونالد ترامپ»، رئیس‌جمهور آمریکا، از دست رفته است."
    # Not CNN, to whom it was said: the anonymous sources, the cue's subject (no entity: never named).
    assert q["speaker"]["text"] == "منابع آگاه" and q["speaker_entity"] is None


def test_a_speaker_started_late_takes_back_its_determiner():
    text = "یک مقام کاخ سفید گفت که دیدار به حالت تعلیق درآمده است. در این جلسه سالارکیا گفت که تیم آماده است."
    roles = [span(text, "مقام کاخ سفید", "SPEAKER"), span(text, "گفت", "CUE"),
             span(text, "دیدار به حالت تعلیق درآمده است.", "QUOTE"),
             span(text, "سالارکیا", "SPEAKER"), span(text, "گفت", "CUE", occ=2), span(text, "تیم آماده است.", "QUOTE")]
    a, b = link_quotes(text, roles, [ent(text, "سالارکیا")])
    assert a["speaker"]["text"] == "یک مقام کاخ سفید" and a["speaker_entity"] is None  # anonymous now
    assert b["speaker"]["text"] == "سالارکیا"  # "این" belongs to "جلسه", not to the speaker


@pytest.mark.parametrize("lead", ["به گزارش خبرنگار اقتصادی خبرگزاری فارس، ", "خبرگزاری فارس: "])
def test_a_byline_or_dateline_outlet_tagged_speaker_is_not_the_speaker(lead):
    text = lead + "کورشات توزمن با بیان اینکه ترکیه مایل است کالا به ایران صادر کند، این سفر را مهم خواند."
    outlet = "خبرگزاری فارس"
    roles = [span(text, outlet, "SPEAKER"), span(text, "با بیان اینکه", "CUE"),
             span(text, "ترکیه مایل است کالا به ایران صادر کند", "QUOTE")]
    [q] = link_quotes(text, roles, [ent(text, outlet, "ORG"), ent(text, "کورشات توزمن")])
    assert q["speaker"]["text"] == "کورشات توزمن"  # the cue's subject, not the outlet
    assert q["speaker_entity"]["text"] == "کورشات توزمن"


def test_an_outlet_that_speaks_is_still_a_speaker():
    text = "خبرگزاری فارس در گزارشی نوشت که قیمت‌ها بالا رفته است."
    roles = [span(text, "خبرگزاری فارس", "SPEAKER"), span(text, "نوشت", "CUE"),
             span(text, "قیمت‌ها بالا رفته است.", "QUOTE")]
    [q] = link_quotes(text, roles, [ent(text, "خبرگزاری فارس", "ORG")])
    assert q["speaker"]["text"] == "خبرگزاری فارس"


def test_a_reported_topic_is_not_a_quote_but_a_reported_clause_is():
    text = ("وی بر ضرورت بازسازی آثار تاریخی بم تاکید کرد. "
            "وی تاکید کرد که ایران همه نوع عملیات تروریستی را تجربه کرده.")
    roles = [span(text, "وی", "SPEAKER"), span(text, "بازسازی آثار تاریخی بم", "QUOTE"),
             span(text, "تاکید کرد", "CUE"),
             span(text, "وی", "SPEAKER", occ=2), span(text, "تاکید کرد", "CUE", occ=2),
             span(text, "ایران همه نوع عملیات تروریستی را تجربه کرده.", "QUOTE")]
    [q] = link_quotes(text, roles)
    assert q["quote"]["text"] == "ایران همه نوع عملیات تروریستی را تجربه کرده."


@pytest.mark.parametrize(("phrase", "clause"), [
    ("شرایط بسیار بحرانی عراق", False), ("بازسازی آثار تاریخی بم", False), ("سیطره ایران بر این کشور", False),
    ("تیم آماده است.", True), ("آنها دیکتاتور نیستند", True), ("خدمات بانکی گسترش می‌یابد.", True),
    ("قیمت‌ها بالا رفته‌اند", True), ("ما پیروز می‌شویم", True), ("ایران تجربه کرده", True),
])
def test_looks_like_clause(phrase, clause):
    assert looks_like_clause(phrase) is clause


def test_a_speaker_never_cuts_a_name_in_half():
    text = "یک مقام کاخ سفید گفت که دیدار به حالت تعلیق درآمده است."
    roles = [span(text, "مقام کاخ", "SPEAKER"), span(text, "گفت", "CUE"),
             span(text, "دیدار به حالت تعلیق درآمده است.", "QUOTE")]
    [q] = link_quotes(text, roles, [ent(text, "کاخ سفید", "ORG")])
    assert q["speaker"]["text"] == "یک مقام کاخ سفید"  # the ORG whole, and the determiner back
    assert q["speaker_entity"] is None  # an anonymous official, not the White House


@pytest.mark.parametrize(("sentence", "source"), [
    ("پس از آنکه منابع آگاه به سی‌ان‌ان گفتند که امیدها از دست رفته است، جلسه لغو شد.", "منابع آگاه"),
    ("اگرچه یکی از منابع گفت که روبیو و لاوروف انتظارات متفاوتی دارند.", "یکی از منابع"),
    ("یک منبع نزدیک به دولت گفت که قیمت‌ها بالا می‌رود.", "یک منبع نزدیک"),
])
def test_an_untagged_anonymous_source_is_the_cues_subject(sentence, source):
    cue = "گفتند" if "گفتند" in sentence else "گفت"
    content = sentence.split(cue + " که ")[1].split("،")[0].rstrip(".")
    roles = [span(sentence, cue, "CUE"), span(sentence, content, "QUOTE")]
    [q] = link_quotes(sentence, roles, [ent(sentence, "سی‌ان‌ان", "ORG")] if "سی‌ان‌ان" in sentence else [])
    assert q["speaker"]["text"] == source and q["speaker_entity"] is None


def test_quotes_below_min_score_are_dropped_and_pass_nothing_on():
    text = "علی دایی گفت: بازی سختی بود.\nما در نیمه دوم بهتر بازی کردیم.\nبازی بعدی جمعه است."
    roles = [span(text, "علی دایی", "SPEAKER"), span(text, "گفت", "CUE", score=0.3),
             span(text, "بازی سختی بود.", "QUOTE", score=0.9),  # (0.9 + 0.3 + 1) / 3 = 0.73
             span(text, "ما در نیمه دوم بهتر بازی کردیم.", "QUOTE", score=0.9)]
    ents = [ent(text, "علی دایی")]
    kept = link_quotes(text, roles, ents)
    assert [round(q["score"], 2) for q in kept] == [0.73, 0.9]
    assert link_quotes(text, roles, ents, min_score=0.73) == kept  # at the threshold: kept
    # The first quote dropped: the cue-less paragraph after it has nobody to continue, so it goes too.
    assert link_quotes(text, roles, ents, min_score=0.8) == []
    # A QUOTE piece below the bar is dropped before linking, however sure its cue and speaker are.
    roles[1]["score"], roles[2]["score"] = 1.0, 0.7  # the quote's score would be (0.7 + 1 + 1) / 3 = 0.9
    assert [q["quote"]["text"] for q in link_quotes(text, roles, ents)] == ["بازی سختی بود.", "ما در نیمه دوم بهتر بازی کردیم."]
    assert link_quotes(text, roles, ents, min_score=0.8) == []


def test_a_piece_below_the_bar_joins_no_quote():
    # data/samples/seed-report.txt: a stray QUOTE piece over the clause took the marked quote back over its
    # speaker; below the bar it is dropped before the pieces are joined, and the cue's subject is found.
    text = "در همین حال، کرملین این تماس را «گفتگویی سازنده» توصیف کرد."
    roles = [span(text, "در همین حال، کرملین این تماس را", "QUOTE", score=0.64),
             span(text, "گفتگویی سازنده", "QUOTE", score=0.99), span(text, "توصیف کرد", "CUE", score=0.83)]
    ents = [ent(text, "کرملین", "ORG")]
    [q] = link_quotes(text, roles, ents, min_score=0.8)
    assert (q["quote"]["text"], q["speaker"]["text"], q["cue"]["text"]) == ("گفتگویی سازنده", "کرملین", "توصیف کرد")
    assert q["speaker_entity"]["text"] == "کرملین"
    kept_all = link_quotes(text, roles, ents)  # no bar: the pieces join and the speaker is inside the quote
    assert all(q["speaker"] is None or q["speaker"]["text"] != "کرملین" for q in kept_all)


def test_quotes_the_rules_did_not_find_need_the_own_bar():
    text = "علی دایی گفت: بازی سختی بود.\nوزیر ورزش گفت: بودجه کافی نیست."
    first, second = "بازی سختی بود.", "بودجه کافی نیست."
    roles = [span(text, "علی دایی", "SPEAKER"), span(text, "وزیر ورزش", "SPEAKER")]
    roles += [dict(span(text, "گفت", "CUE"), start=i, end=i + 3) for i in (9, text.index("گفت", 20))]
    roles += [span(text, first, "QUOTE", score=0.85), span(text, second, "QUOTE", score=0.85)]  # quote score 0.95
    ents = [ent(text, "علی دایی")]
    both = link_quotes(text, roles, ents)
    assert [q["quote"]["text"] for q in both] == [first, second] and both[0]["score"] == 0.95
    s = text.index(second)
    rules_first = [(text.index(first), text.index(first) + len(first))]  # the rules tagged only the first
    only_first = link_quotes(text, roles, ents, rule_quotes=rules_first, own_min_score=0.96)
    assert [q["quote"]["text"] for q in only_first] == [first]
    assert link_quotes(text, roles, ents, rule_quotes=rules_first, own_min_score=0.95) == both  # at the bar: kept
    # Half inside the rules' QUOTE characters counts as found by them; less than half does not.
    half = [(s, s + (len(second) + 1) // 2)]
    assert len(link_quotes(text, roles, ents, rule_quotes=rules_first + half, own_min_score=0.99)) == 2
    less = [(s, s + len(second) // 2 - 1)]
    assert len(link_quotes(text, roles, ents, rule_quotes=rules_first + less, own_min_score=0.99)) == 1
    # No bar, or no rule ranges given (a text-only model): nothing more is dropped.
    assert link_quotes(text, roles, ents, rule_quotes=[], own_min_score=None) == both
    assert link_quotes(text, roles, ents, rule_quotes=None, own_min_score=0.99) == both


def test_a_fragment_inside_a_rule_run_is_widened_to_it():
    # dev fars-1-0255: the head tags one word of the reported clause, below the bar; the rules tag it whole.
    text = "آیت‌الله سیستانی از گروه‌ها خواست که فهرست واحدی برای انتخابات ارائه کنند."
    clause = "فهرست واحدی برای انتخابات ارائه کنند"
    roles = [span(text, "آیت‌الله سیستانی", "SPEAKER", score=0.99), span(text, "خواست", "CUE", score=0.99),
             span(text, "فهرست", "QUOTE", score=0.55)]
    ents = [ent(text, "آیت‌الله سیستانی")]
    run = [(text.index(clause), text.index(clause) + len(clause))]
    assert link_quotes(text, roles, ents, min_score=0.8) == []  # without the rules: a fragment below the bar
    [q] = link_quotes(text, roles, ents, min_score=0.8, rule_quotes=run, own_min_score=0.99)
    assert (q["quote"]["text"], q["speaker"]["text"], q["kind"]) == (clause, "آیت‌الله سیستانی", "indirect")
    assert q["score"] == round((0.55 + 0.99 + 0.99) / 3, 4)  # the widened piece keeps its own score
    # Still the quote's score decides: with a weaker cue and speaker it stays below the bar.
    roles[0]["score"] = roles[1]["score"] = 0.85
    assert link_quotes(text, roles, ents, min_score=0.8, rule_quotes=run) == []
    # A fragment outside every rule run is dropped as before.
    assert link_quotes(text, roles, ents, min_score=0.5, rule_quotes=[(0, 5)]) == []


def test_sentences_of_a_marked_line_inside_a_rule_run_become_one_quote():
    text = "مادر با صدایی دل‌نشین می‌گوید: «می‌دانم مادر جان! عزیزانم هستید. خدا خیرتان بدهد.»"
    line = "می‌دانم مادر جان! عزیزانم هستید. خدا خیرتان بدهد."
    roles = [span(text, "مادر", "SPEAKER"), span(text, "می‌گوید", "CUE"), span(text, "می‌دانم مادر جان!", "QUOTE"),
             span(text, "عزیزانم هستید.", "QUOTE", score=0.66), span(text, "خدا خیرتان بدهد.", "QUOTE", score=0.75)]
    [alone] = link_quotes(text, roles, min_score=0.8)
    assert alone["quote"]["text"] == "می‌دانم مادر جان!"
    run = [(text.index(line), text.index(line) + len(line))]
    [q] = link_quotes(text, roles, min_score=0.8, rule_quotes=run)
    assert q["quote"]["text"] == line and q["kind"] == "direct" and q["speaker"]["text"] == "مادر"
    check_offsets(text, [q])


def test_a_piece_the_linker_keeps_keeps_its_bounds_inside_a_longer_rule_run():
    # A rule run may run on over the reporter's next sentence (fars-2-0162); the model's piece is kept as is.
    text = "صادق افزود: همه ما باید روح امام را حاکم بدانیم. وی برنامه‌های ستاد را اعلام کرد."
    quote = "همه ما باید روح امام را حاکم بدانیم."
    roles = [span(text, "صادق", "SPEAKER"), span(text, "افزود", "CUE"), span(text, quote, "QUOTE", score=0.95),
             span(text, "وی", "SPEAKER", score=0.9), span(text, "اعلام کرد", "CUE", score=0.9)]
    run = [(text.index(quote), len(text) - 1)]
    [q] = link_quotes(text, roles, min_score=0.8, rule_quotes=run)
    assert q["quote"]["text"] == quote


def test_a_piece_running_past_the_end_of_its_rule_run_is_cut_there():
    # dev fars-1-0046: the head carries the reported clause on into the reporter's next one.
    text = "علاوی گفت که تجزیه عراق به مصیبت بزرگی منجر خواهد شد و از همه گروه‌ها خواست متحد بمانند."
    clause = "تجزیه عراق به مصیبت بزرگی منجر خواهد شد"
    long = clause + " و از همه گروه‌ها خواست متحد بمانند"
    roles = [span(text, "علاوی", "SPEAKER"), span(text, "گفت", "CUE"), span(text, long, "QUOTE", score=0.95)]
    ents = [ent(text, "علاوی")]
    start = text.index(clause)
    assert link_quotes(text, roles, ents, min_score=0.8)[0]["quote"]["text"] == long  # no rules: the model's bounds
    [q] = link_quotes(text, roles, ents, min_score=0.8, rule_quotes=[(start, start + len(clause))])
    assert q["quote"]["text"] == clause and q["speaker"]["text"] == "علاوی"
    # A run that starts elsewhere in the piece does not cut it.
    later = text.index("از همه")
    assert link_quotes(text, roles, ents, min_score=0.8, rule_quotes=[(later, later + 6)])[0]["quote"]["text"] == long


@pytest.mark.parametrize("after", ["بچه‌ها پول‌هایشان را روی هم می‌گذارند.", "«بچه‌ها» پول‌هایشان را روی هم می‌گذارند."])
def test_a_marked_quote_ends_at_the_mark_that_closes_it(after):
    # halves fars-1-0196: the reporter's sentence after the closing mark joined the quote.
    text = f"هومن می‌گوید: «امروز کار خاصی نداریم. فقط چند چیز می‌خریم.» {after}"
    roles = [span(text, "هومن", "SPEAKER"), span(text, "می‌گوید", "CUE"),
             span(text, "امروز کار خاصی نداریم.", "QUOTE"), span(text, "فقط چند چیز می‌خریم.", "QUOTE"),
             span(text, after, "QUOTE", score=0.93)]  # right after the closing mark
    quotes = link_quotes(text, roles, [ent(text, "هومن")])
    assert quotes[0]["quote"]["text"] == "امروز کار خاصی نداریم. فقط چند چیز می‌خریم." and quotes[0]["kind"] == "direct"
    close = text.index("»")
    assert not any(q["quote"]["start"] < close < q["quote"]["end"] for q in quotes)


def test_a_pair_of_marks_nested_in_a_quote_does_not_end_it():
    text = "دایی گفت: «ما «پرسپولیس» را دوست داریم و برای آن می‌جنگیم.»"
    roles = [span(text, "دایی", "SPEAKER"), span(text, "گفت", "CUE"), span(text, "ما", "QUOTE", occ=1),
             span(text, "را دوست داریم و برای آن می‌جنگیم.", "QUOTE")]
    [q] = link_quotes(text, roles, [ent(text, "دایی")])
    assert q["quote"]["text"] == "ما «پرسپولیس» را دوست داریم و برای آن می‌جنگیم."


INTERVIEW = ("دایی: تیم را از نو می‌سازیم\n\n"
             "علی دایی سرمربی تیم پس از تمرین به پرسش‌های ما پاسخ داد.\n"
             "نظرتان درباره بازی دیروز چیست؟\n"
             "بازی خوبی بود و بچه‌ها تا آخر جنگیدند.\n"
             "برای بازی بعد برنامه خاصی دارید؟\n"
             "بله، باید سه امتیاز را بگیریم.\n"
             "هواداران را هم به ورزشگاه دعوت می‌کنم.\n"
             "یعنی از ترکیب راضی هستید\n"
             "فعلا بله، ترکیب ما کامل است.")
ANSWERS = ["بازی خوبی بود و بچه‌ها تا آخر جنگیدند.", "بله، باید سه امتیاز را بگیریم.",
           "هواداران را هم به ورزشگاه دعوت می‌کنم.", "فعلا بله، ترکیب ما کامل است."]


def interview_roles(text, answers, score=0.9):
    return [span(text, "دایی", "SPEAKER"), span(text, "تیم را از نو می‌سازیم", "QUOTE")] + \
        [span(text, a, "QUOTE", score=score) for a in answers]


def test_interview_answers_are_direct_quotes_of_the_interviewee():
    # Guidelines 7: the questions are not quotes; each answer paragraph is one direct quote, no speaker, no cue,
    # the interviewee's entity at the nearest earlier mention (here the surname inside his full name).
    text = INTERVIEW
    ents = [ent(text, "دایی"), ent(text, "علی دایی")]
    quotes = link_quotes(text, interview_roles(text, ANSWERS), ents, min_score=0.8, rule_quotes=[], own_min_score=0.99)
    assert [q["quote"]["text"] for q in quotes] == ["تیم را از نو می‌سازیم"] + ANSWERS
    check_offsets(text, quotes)
    mention = text.index("دایی", text.index("علی دایی"))
    for q in quotes[1:]:  # exempt from the own bar: the rules never tag an answer
        assert q["speaker"] is None and q["cue"] is None and q["kind"] == "direct"
        assert (q["speaker_entity"]["start"], q["speaker_entity"]["text"]) == (mention, "دایی")
    # The answer after an unmarked question ("یعنی از ترکیب راضی هستید") is one too; below the bar none is.
    assert link_quotes(text, interview_roles(text, ANSWERS, score=0.7), ents, min_score=0.8)[1:] == []


def test_one_question_or_bullets_alone_make_no_interview():
    one = INTERVIEW.replace("برای بازی بعد برنامه خاصی دارید؟", "برای بازی بعد برنامه خاصی دارید.")
    answers = [a for a in ANSWERS if a in one]
    quotes = link_quotes(one, interview_roles(one, answers), [ent(one, "علی دایی")])
    assert [q["quote"]["text"] for q in quotes] == ["تیم را از نو می‌سازیم"]
    # Fars opens section headings with "*": a heading and the paragraph under it are no question and answer.
    headings = INTERVIEW.replace("چیست؟", "چیست").replace("دارید؟", "دارید").replace("\nنظرتان", "\n*نظرتان")
    quotes = link_quotes(headings, interview_roles(headings, ANSWERS), [ent(headings, "علی دایی")])
    assert [q["quote"]["text"] for q in quotes] == ["تیم را از نو می‌سازیم"]


def test_a_question_the_head_tags_is_no_answer():
    text = INTERVIEW
    roles = interview_roles(text, ANSWERS) + [span(text, "برای بازی بعد برنامه خاصی دارید؟", "QUOTE", score=0.95)]
    quotes = link_quotes(text, roles, [ent(text, "علی دایی")])
    assert "برای بازی بعد برنامه خاصی دارید؟" not in [q["quote"]["text"] for q in quotes]
    assert [q["quote"]["text"] for q in quotes][-1] == ANSWERS[-1]


def test_an_answer_the_head_tags_only_in_part_is_still_one_quote():
    # Once the article is an interview, an answer needs only a tenth of it tagged: the head often tags one
    # sentence of an answer; the whole paragraph is the quote.
    text = INTERVIEW.replace("بله، باید سه امتیاز را بگیریم.", "بله، باید سه امتیاز را بگیریم. حریف تیم خوبی است و کار سختی داریم.")
    quotes = link_quotes(text, interview_roles(text, ANSWERS), [ent(text, "علی دایی")])
    assert "بله، باید سه امتیاز را بگیریم. حریف تیم خوبی است و کار سختی داریم." in [q["quote"]["text"] for q in quotes]


def test_labelled_interview_questions_are_dropped_and_answers_keep_their_speaker():
    # varzesh3-2-0488: "فیفا: <question>?" / "مسی: <answer>": the answers are X: Y quotes of Messi; the
    # questions, which the head may take for quotes of "فیفا", are not quotes.
    text = ("مسی: خیلی تغییر کرده ام\n\nفیفا با لیونل مسی گفت‌وگو کرد.\n"
            "فیفا: این مراسم برایت عادی شده است؟\nمسی: راستش هنوز برایم عادی نشده است.\n"
            "فیفا: امسال چه تغییری کرده ای؟\nمسی: خیلی تغییر کرده ام و پدر شده ام.")
    roles = [span(text, "مسی", "SPEAKER"), span(text, "خیلی تغییر کرده ام", "QUOTE")]
    for q, a in (("این مراسم برایت عادی شده است؟", "راستش هنوز برایم عادی نشده است."),
                 ("امسال چه تغییری کرده ای؟", "خیلی تغییر کرده ام و پدر شده ام.")):
        roles += [dict(span(text, "فیفا", "SPEAKER"), start=text.index(q) - 6, end=text.index(q) - 2),
                  span(text, q, "QUOTE"), span(text, a, "QUOTE")]
        i = text.index(a) - 5
        roles.append({"label": "SPEAKER", "start": i, "end": i + 3, "score": 1.0})
    quotes = link_quotes(text, roles, [ent(text, "لیونل مسی")])
    check_offsets(text, quotes)
    assert [(q["quote"]["text"], q["speaker"]["text"]) for q in quotes] == [
        ("خیلی تغییر کرده ام", "مسی"), ("راستش هنوز برایم عادی نشده است.", "مسی"), ("خیلی تغییر کرده ام و پدر شده ام.", "مسی")]


@pytest.mark.parametrize(("words", "closed"), [
    ("هنوز", True), ("و نیز", True), ("ولي", True), ("همین‌طور", True), ("علی دایی", False), ("وی", False),
    ("«»", False),
])
def test_closed_class_only(words, closed):
    assert closed_class_only(words) is closed


def test_an_adverb_tagged_speaker_gives_way_to_the_cues_subject():
    # The sample report's sentence: the head tags the opening adverb SPEAKER; the source is the cue's subject.
    text = "هنوز مشخص نیست که چرا این دیدار برگزار نمی‌شود، اگرچه یکی از منابع گفت که روبیو و لاوروف انتظارات متفاوتی دارند."
    roles = [span(text, "هنوز", "SPEAKER"), span(text, "گفت", "CUE"),
             span(text, "روبیو و لاوروف انتظارات متفاوتی دارند.", "QUOTE")]
    ents = [ent(text, "روبیو"), ent(text, "لاوروف")]
    [q] = link_quotes(text, roles, ents)
    assert q["speaker"]["text"] == "هنوز"  # what the linker makes of the head's tags as they are
    assert drop_non_mentions(text, roles) == roles[1:]
    assert drop_non_mentions("هنوز: خبری نیست.", [span("هنوز: خبری نیست.", "هنوز:", "SPEAKER")]) == []  # trimmed
    [q] = link_quotes(text, drop_non_mentions(text, roles), ents)
    assert q["speaker"]["text"] == "یکی از منابع" and q["speaker_entity"] is None
    # A name NER missed is still a speaker: only closed-class words are passed over.
    text = "کرانچار گفت که تیم آماده است."
    roles = [span(text, "کرانچار", "SPEAKER"), span(text, "گفت", "CUE"), span(text, "تیم آماده است.", "QUOTE")]
    [q] = link_quotes(text, drop_non_mentions(text, roles), [])
    assert q["speaker"]["text"] == "کرانچار" and q["speaker_entity"]["text"] == "کرانچار"


@pytest.mark.parametrize("tagged", [["کاخ سفید"], ["آنا کلی", "کاخ سفید"]])
def test_a_name_before_a_title_is_the_speaker_not_the_organisation_in_the_title(tagged):
    text = "«آنا کلی»، معاون سخنگوی کاخ سفید، گفت: «رئیس‌جمهور به دنبال راه‌حلی مسالمت‌آمیز است.»"
    roles = [span(text, "«آنا کلی»، معاون سخنگوی کاخ سفید", "SPEAKER"), span(text, "گفت", "CUE"),
             span(text, "رئیس‌جمهور به دنبال راه‌حلی مسالمت‌آمیز است.", "QUOTE")]
    ents = [ent(text, e, "ORG" if e == "کاخ سفید" else "PER") for e in tagged]
    [q] = link_quotes(text, roles, ents)  # NER missed the name, or found it: the person either way
    assert q["speaker_entity"] == {"start": 1, "end": 8, "text": "آنا کلی", "type": "PER"}
    check_offsets(text, [q])
    # A title with no name before it still stands for the organisation NER found in it.
    text = "سخنگوی کاخ سفید گفت: «رئیس‌جمهور به دنبال راه‌حلی مسالمت‌آمیز است.»"
    roles = [span(text, "سخنگوی کاخ سفید", "SPEAKER"), span(text, "گفت", "CUE"),
             span(text, "رئیس‌جمهور به دنبال راه‌حلی مسالمت‌آمیز است.", "QUOTE")]
    [q] = link_quotes(text, roles, [ent(text, "کاخ سفید", "ORG")])
    assert q["speaker_entity"]["text"] == "کاخ سفید"


@pytest.mark.parametrize(("mention", "person", "entity"), [
    ("ولیعهد سعودی، محمد بن سلمان", "محمد بن سلمان", "محمد بن سلمان"),  # NER found the person: the person
    # A pronoun with a title in apposition: the pronoun's speaker, not the pronoun as a name nor the title's ORG.
    ("وی، رئیس پیشین فدراسیون فوتبال", None, "علی دایی"),
])
def test_a_person_or_pronoun_before_a_title_is_the_speaker(mention, person, entity):
    text = f"علی دایی گفت: «بازی سختی بود.» {mention} گفت: «تیم آماده است.»"
    roles = [span(text, "علی دایی", "SPEAKER"), span(text, "گفت", "CUE"), span(text, "بازی سختی بود.", "QUOTE"),
             span(text, mention, "SPEAKER"), span(text, "گفت", "CUE", occ=2), span(text, "تیم آماده است.", "QUOTE")]
    ents = [ent(text, "علی دایی")] + ([ent(text, person)] if person else []) + \
        ([ent(text, "فدراسیون فوتبال", "ORG")] if "فدراسیون" in mention else [])
    _, q = link_quotes(text, roles, ents)
    assert q["speaker_entity"]["text"] == entity
    check_offsets(text, [q])
