"""The rule-based quote annotator on Persian news sentences: shapes of attribution, spelling variants, offsets."""

import json

import pytest

from parstag.inference.quote_rule_lexicon import _mark_regions
from parstag.inference.quote_rules import _unstretch, annotate_quotes, article_text, rule_role_spans, silver_records


def quotes_of(text, entities=None):
    qs = annotate_quotes(text, entities)
    for q in qs:  # every span slices the ORIGINAL text exactly
        for key in ("quote", "speaker", "cue", "speaker_entity"):
            if q[key] is not None:
                assert text[q[key]["start"]:q[key]["end"]] == q[key]["text"], key
    return qs


def brief(q):
    def t(x):
        return None if x is None else x["text"]

    return t(q["speaker"]), t(q["cue"]), q["quote"]["text"], q["kind"], t(q["speaker_entity"])


def test_colon_quote_runs_to_the_end_of_the_paragraph_as_one_quote():
    text = ("علی ربیعی، سخنگوی دولت، روز دوشنبه در نشست خبری گفت: دولت برای مهار تورم برنامه دارد. "
            "این برنامه از ماه آینده اجرا می‌شود.\nبازار ارز امروز آرام بود.")
    [q] = quotes_of(text)
    assert brief(q)[:4] == ("علی ربیعی، سخنگوی دولت", "گفت",
                            "دولت برای مهار تورم برنامه دارد. این برنامه از ماه آینده اجرا می‌شود.", "direct")
    assert q["speaker_entity"]["text"] == "علی ربیعی"


def test_colon_quote_stops_before_a_new_attribution_in_the_same_paragraph():
    text = "وزیر نیرو گفت: مصرف برق رکورد زد. وی افزود: مردم باید صرفه‌جویی کنند."
    a, b = quotes_of(text)
    assert brief(a)[:3] == ("وزیر نیرو", "گفت", "مصرف برق رکورد زد.")
    assert brief(b)[:3] == ("وی", "افزود", "مردم باید صرفه‌جویی کنند.")


def test_guillemet_quote_with_the_speaker_before_and_after():
    [q] = quotes_of("وزیر امور خارجه گفت: «ما به دنبال گفت‌وگو با همسایگان هستیم.» این سخنان بازتاب زیادی داشت.")
    assert brief(q)[:4] == ("وزیر امور خارجه", "گفت", "ما به دنبال گفت‌وگو با همسایگان هستیم.", "direct")
    [q] = quotes_of("«ما به دنبال گفت‌وگو با همسایگان هستیم»، وزیر امور خارجه در پایان نشست گفت.")
    assert brief(q)[:4] == ("وزیر امور خارجه", "گفت", "ما به دنبال گفت‌وگو با همسایگان هستیم", "direct")


def test_indirect_quote_after_gofte_ke_stops_before_the_final_dot():
    [q] = quotes_of("سخنگوی وزارت بهداشت روز شنبه گفت که واکسن‌ها از هفته آینده توزیع می‌شود.")
    assert brief(q)[:4] == ("سخنگوی وزارت بهداشت", "گفت", "واکسن‌ها از هفته آینده توزیع می‌شود", "indirect")


def test_ba_bayan_inke_gives_two_quotes_with_one_speaker():
    text = ("محمد باقری در جلسه امروز سخن گفت.\n"
            "وی با بیان اینکه بودجه امسال کافی نیست، افزود: مجلس باید به این موضوع رسیدگی کند.")
    # The name was never a speaker: only NER can resolve "وی" to it.
    a, b = quotes_of(text, [{"type": "PER", "start": 0, "end": 10}])
    assert brief(a) == ("وی", "با بیان اینکه", "بودجه امسال کافی نیست", "indirect", "محمد باقری")
    assert brief(b) == ("وی", "افزود", "مجلس باید به این موضوع رسیدگی کند.", "direct", "محمد باقری")
    assert a["speaker"] == b["speaker"]


def test_be_gofte_x():
    [q] = quotes_of("به گفته رئیس پلیس راهور، تعداد تصادفات در تعطیلات نوروز کاهش یافته است.")
    assert brief(q)[:4] == ("رئیس پلیس راهور", "به گفته", "تعداد تصادفات در تعطیلات نوروز کاهش یافته است", "indirect")


def test_pronoun_resolves_to_the_earlier_name():
    text = ("حسن روحانی در جمع خبرنگاران گفت: دولت به تعهدات خود عمل می‌کند.\n"
            "وی افزود: تحریم‌ها اثر خود را از دست داده است.")
    a, b = quotes_of(text)
    assert a["speaker_entity"]["text"] == "حسن روحانی"
    assert b["speaker"]["text"] == "وی"
    assert b["speaker_entity"]["text"] == "حسن روحانی" and b["speaker_entity"]["start"] == a["speaker"]["start"]


def test_byline_is_not_a_quote_and_not_a_speaker():
    assert quotes_of("به گزارش فارس به نقل از وزارت نیرو، مصرف برق در تابستان امسال رکورد زد.") == []
    [q] = quotes_of("به گزارش خبرگزاری فارس، محمد باقری در نشست شورا اظهار داشت: ارتش آماده است.")
    assert brief(q)[:3] == ("محمد باقری", "اظهار داشت", "ارتش آماده است.")


def test_the_rules_fold_the_shared_letters_one_for_one():
    from parstag.inference.letters import LETTER_FOLD
    from parstag.inference.quote_rules import _FOLD1, _FOLD1_G

    for table in (_FOLD1, _FOLD1_G):
        assert all(len(v) == 1 for v in table.values())  # offsets in the folded text stay offsets
        assert all(table[ord(k)] == v for k, v in LETTER_FOLD.items())


def test_arabic_yeh_and_kaf_keep_their_original_spelling():
    text = "وارسته در اين نشست خبري اظهار كرد: اين طرح در سال آينده در تمام دفاتر كشور اجرا مي‌شود."
    [q] = quotes_of(text)
    assert brief(q)[:3] == ("وارسته", "اظهار كرد", "اين طرح در سال آينده در تمام دفاتر كشور اجرا مي‌شود.")
    [q] = quotes_of("وي تاكيد كرد كه دولت از بخش خصوصي حمايت مي‌كند.")
    assert brief(q)[:4] == ("وي", "تاكيد كرد", "دولت از بخش خصوصي حمايت مي‌كند", "indirect")


@pytest.mark.parametrize("cue", ["اظهارداشت", "اظهار داشت", "اظهار\u200cداشت", "میگوید", "می گوید", "می\u200cگوید"])
def test_cue_with_and_without_zwnj(cue):
    text = f"وزیر نیرو {cue}: مردم می‌توانند مصرف برق را کاهش دهند."
    [q] = quotes_of(text)
    assert q["cue"]["text"] == cue and q["speaker"]["text"] == "وزیر نیرو"


@pytest.mark.parametrize("cue", ["گفـــت", "اظهار داشـت", "اظهارداشـــت", "افـزود", "تاکیـد کـرد", "مـی\u200cگویـد"])
def test_cue_stretched_with_kashidas(cue):
    text = f"وزیر نیرو {cue}: مردم می‌توانند مصرف برق را کاهش دهند."
    [q] = quotes_of(text)
    assert q["cue"]["text"] == cue and q["speaker"]["text"] == "وزیر نیرو"
    assert q["quote"]["text"] == "مردم می‌توانند مصرف برق را کاهش دهند."


def test_kashidas_before_a_cue_keep_offsets_into_the_original():
    text = "وزیـــر نیـرو در نشست خبری گفـت: مصرف برق رکـــورد زد.\nبازار آرام بود."
    spans = rule_role_spans(text)
    assert [(s["label"], text[s["start"]:s["end"]]) for s in spans] == [
        ("SPEAKER", "وزیـــر نیـرو"), ("CUE", "گفـت"), ("QUOTE", "مصرف برق رکـــورد زد.")]
    cue = spans[1]
    assert (cue["start"], cue["end"]) == (text.index("گفـت"), text.index("گفـت") + 4)


def test_ner_entities_over_kashidas_still_name_the_speaker():
    text = "کارلـوس کی‌روش سرمربـی تیم ملی گفـت: بازیکنان آماده‌اند."
    ents = [{"type": "PER", "start": 0, "end": 14, "text": "کارلـوس کی‌روش"}]
    [q] = quotes_of(text, ents)
    assert q["speaker_entity"] == {"start": 0, "end": 14, "text": "کارلـوس کی‌روش", "type": "PER"}
    assert q["speaker"]["text"] == "کارلـوس کی‌روش سرمربـی تیم ملی"


def test_only_a_kashida_between_two_letters_is_a_stretch():
    # Fars news also uses kashida as a dash ("دولت ـ ملت", "اختیارـ آنچه", list labels "دــ") and after a
    # lone letter ("هـ.ق"): those stay (the fold makes them spaces), and text without a stretch is untouched.
    for text in ("مدل دولت ـ ملت", "اختیارـ آنچه", "دــ فضیلت", "سال ۴۵۴ هـ.ق", "ــ", "بدون کشیده"):
        assert _unstretch(text) == (text, None)
    assert _unstretch("گفـــت و بـه") == ("گفت و به", [0, 1, 5, 6, 7, 8, 9, 11])
    [q] = quotes_of("وی گفت: مدل دولت ـ ملت بهترین مدل اقتصادی است.")
    assert q["quote"]["text"] == "مدل دولت ـ ملت بهترین مدل اقتصادی است."


def test_stretching_words_changes_no_span_but_its_offsets():
    import random

    rng = random.Random(7)
    texts = ["علی ربیعی، سخنگوی دولت، روز دوشنبه در نشست خبری گفت: دولت برای مهار تورم برنامه دارد.\nبازار آرام بود.",
             "وی با بیان اینکه بودجه امسال کافی نیست، افزود: مجلس باید به این موضوع رسیدگی کند.",
             "به گفته رئیس پلیس راهور، تعداد تصادفات در تعطیلات نوروز کاهش یافته است.",
             "«ما به دنبال گفت‌وگو با همسایگان هستیم»، وزیر امور خارجه در پایان نشست گفت.",
             "سخنگوی وزارت بهداشت روز شنبه گفت که واکسن‌ها از هفته آینده توزیع می‌شود."]
    for text in texts:
        plain = [(s["label"], text[s["start"]:s["end"]]) for s in rule_role_spans(text)]
        for _ in range(20):  # kashidas between two letters, at random
            stretched = "".join(c + ("ـ" * rng.randint(1, 3) if c.isalpha() and n.isalpha() and rng.random() < 0.3
                                     else "") for c, n in zip(text, text[1:] + " "))
            got = [(s["label"], stretched[s["start"]:s["end"]]) for s in rule_role_spans(stretched)]
            assert [(label, t.replace("ـ", "")) for label, t in got] == plain, stretched
            assert all(not t.startswith("ـ") and not t.endswith("ـ") for _, t in got)


def test_goftogu_is_not_a_cue():
    text = "احمد روستا در گفت‌وگو با خبرنگار فارس، اظهار داشت: دولت باید ستادی تشکیل دهد."
    [q] = quotes_of(text)
    assert brief(q)[:2] == ("احمد روستا", "اظهار داشت")
    assert quotes_of("این گفتگو دو ساعت طول کشید و در گفت‌وگو همه چیز مطرح شد.") == []


def test_headline_quote_and_first_person_continuation_paragraph():
    text = ("فروزانی: سایپا بیمار است\n\nسرمربی سایپا گفت: تیم ما شرایط خوبی ندارد.\n"
            "ما باید مشکلات را حل کنیم و به روزهای خوب برگردیم.\nبازی بعدی سایپا جمعه برگزار می‌شود.")
    head, main, cont = quotes_of(text)
    assert brief(head)[:4] == ("فروزانی", None, "سایپا بیمار است", "direct")
    assert brief(main)[:2] == ("سرمربی سایپا", "گفت")
    assert brief(cont) == (None, None, "ما باید مشکلات را حل کنیم و به روزهای خوب برگردیم.", "direct", "فروزانی")


def test_question_to_the_speaker_is_not_a_quote_and_keeps_the_speaker():
    text = "وی در پاسخ به این سؤال که آیا حزب به جبهه می‌پیوندد یا نه؟ گفت: حزب مستقل عمل می‌کند."
    [q] = quotes_of(text)
    assert brief(q)[:3] == ("وی", "گفت", "حزب مستقل عمل می‌کند.")


def test_anonymous_source_has_no_entity():
    text = "یک منبع آگاه به خبرنگار ما گفت که مذاکرات به تعویق افتاده است.\nاین منبع افزود: طرفین هنوز توافق نکرده‌اند."
    a, b = quotes_of(text)
    assert a["speaker"]["text"] == "یک منبع آگاه" and a["speaker_entity"] is None
    assert b["speaker"]["text"] == "این منبع" and b["speaker_entity"] is None


def test_ner_entities_widen_and_name_the_speaker():
    text = "کارلوس کی‌روش سرمربی تیم ملی گفت: بازیکنان آماده‌اند."
    ents = [{"type": "PER", "start": 0, "end": 13, "text": "کارلوس کی‌روش"}]
    [q] = quotes_of(text, ents)
    assert q["speaker_entity"] == {"start": 0, "end": 13, "text": "کارلوس کی‌روش", "type": "PER"}


def test_role_spans_are_flat_and_labelled():
    text = "وی با بیان اینکه بودجه کافی نیست، افزود: مجلس باید رسیدگی کند."
    spans = rule_role_spans(text)
    assert [s["label"] for s in spans] == ["SPEAKER", "CUE", "QUOTE", "CUE", "QUOTE"]
    assert all(a["end"] <= b["start"] for a, b in zip(spans, spans[1:]))


def test_silver_records_have_the_gold_format():
    art = {"title": "فروزانی: سایپا بیمار است", "abstract": "",
           "paragraphs": ["به گزارش فارس، رضا فروزانی گفت: ما در شرایط بحرانی هستیم.", "وی افزود: باید صبر کنیم."]}
    [rec] = list(silver_records([("fars-9-0001", art), "متنی بدون نقل قول."], limit=1))
    assert rec["id"] == "fars-9-0001" and rec["text"] == article_text(art) and rec["split"] == "silver"
    by_id = {s["id"]: s for s in rec["spans"]}
    for s in rec["spans"]:
        assert rec["text"][s["start"]:s["end"]] == s["text"] and s["label"] in ("QUOTE", "SPEAKER", "CUE")
    assert len(rec["quotes"]) == 3
    used = {v for q in rec["quotes"] for v in (q["quote"], q["speaker"], q["cue"]) if v}
    assert used == set(by_id)
    assert rec["quotes"][2]["entity"]["text"] == "رضا فروزانی"
    json.dumps(rec, ensure_ascii=False)
    assert len(list(silver_records(["متنی بدون نقل قول.", "دومی."]))) == 2


def test_excerpts_from_the_news_files():
    # fars-news-1.json #0 (Arabic ي/ك, "اظهارداشت" without a space, a byline with "به نقل از")
    text = ("به گزارش فارس به نقل از وزارت ارتباطات و فناوري اطلاعات، وارسته با بيان اين مطلب، اظهارداشت: "
            "به زودي اين نرم افزار در تمام دفاتر كشور نصب خواهد شد.\n"
            "وي از بهره‌برداري 6 هزار و 127 دفتر ICT روستايي خبر داد و افزود: اين دفاتر قادرند 24 هزار روستا را "
            "تحت پوشش قرار دهند.")
    a, b = quotes_of(text)
    assert brief(a) == ("وارسته", "اظهارداشت", "به زودي اين نرم افزار در تمام دفاتر كشور نصب خواهد شد.", "direct",
                        "وارسته")
    assert brief(b)[:2] == ("وي", "افزود") and b["speaker_entity"]["start"] == a["speaker"]["start"]
    # varzesh3-1.json #1 (ASCII quotation marks glued to the colon)
    text = 'واتسکه معتقد است که هیچ شکی ندارد.\nاو گفت:" به نظر من، ویدال یکی از بهترین هافبک‌های جهان است."'
    a, b = quotes_of(text)
    assert brief(a)[:4] == ("واتسکه", "معتقد است", "هیچ شکی ندارد", "indirect")
    assert brief(b) == ("او", "گفت", "به نظر من، ویدال یکی از بهترین هافبک‌های جهان است.", "direct", "واتسکه")


def test_marks_inside_spans_and_a_missing_space_after_the_dot():
    text = ("«ماریا زاخارووا» سخنگوی وزارت خارجه روسیه گفت: «مبعلی» یکی از بهترین بازیکنان است."
            "وی افزود: «الاهلی» تیم خوبی است.")
    a, b = quotes_of(text)
    assert a["speaker"]["text"] == "«ماریا زاخارووا» سخنگوی وزارت خارجه روسیه"  # balanced marks stay
    assert a["quote"]["text"] == "«مبعلی» یکی از بهترین بازیکنان است."  # the marks hold a name, not the quote
    assert brief(b)[:3] == ("وی", "افزود", "«الاهلی» تیم خوبی است.")


def test_a_cue_inside_the_framing_of_a_question_is_not_a_quote():
    text = ("وی در مورد اینکه رویانیان بارها اعلام کرده می‌خواهد استعفا بدهد، گفت: "
            "این سؤال‌ها را از من نپرسید.")
    [q] = quotes_of(text)
    assert brief(q)[:3] == ("وی", "گفت", "این سؤال‌ها را از من نپرسید.")


def test_odd_inputs_never_break_the_rules():
    import random

    for t in ["", "\n\n", "«", "گفت:", "وی گفت: «", "به گفته ،", "با بیان اینکه", '"""', "«وی گفت: «الف» و»"]:
        quotes_of(t)
    rng = random.Random(1)
    alphabet = list('وی گفت: «» "،.؟\nبا بیان اینکه افزود به گفته الف ب\u200c')
    for _ in range(300):
        quotes_of("".join(rng.choice(alphabet) for _ in range(rng.randrange(60))))


def test_a_mark_never_closed_does_not_swallow_the_later_quotes():
    # fars-1-0196: one » forgotten; the pairs after the open « are quotes of their own, not nested inside it,
    # so the next quote stops at its closing mark instead of running on to the end of the paragraph.
    text = ("هومن می‌گوید: «باز برنامه دارید؟ بیایید که یک تخفیف به شما بدهم. دو نفر به مغازه می‌روند.\n"
            "مادر با لبخند می‌گوید: «دست شما درد نکند.» ولی وقتی میوه‌ها را می‌بیند کمی مکث می‌کند.")
    a, b = quotes_of(text)
    assert brief(a)[:3] == ("هومن", "می‌گوید", "باز برنامه دارید؟ بیایید که یک تخفیف به شما بدهم. دو نفر به مغازه می‌روند.")
    assert brief(b)[:3] == ("مادر", "می‌گوید", "دست شما درد نکند.")
    assert [text[s:e] for s, e in _mark_regions(text)] == ["دست شما درد نکند."]
    # Pairs still nest, and a pair still spans paragraphs (guidelines 3.3).
    text = "او گفت: «ما «مارکو روبیو» را دیدیم.\nبعد رفتیم.»"
    assert [text[s:e] for s, e in _mark_regions(text)] == ["ما «مارکو روبیو» را دیدیم.\nبعد رفتیم."]


def test_marked_complement_of_a_naming_verb_is_a_direct_quote():
    # data/samples/seed-report.txt; guidelines 2.2: only the marks right before the verb are its complement.
    text = ("در همین حال، کرملین این تماس را «گفتگویی سازنده» توصیف کرد که به «گامهای مشخص احتمالی برای اجرای "
            "تفاهمات» بین ترامپ و پوتین در این تماس پرداخته است.")
    [q] = quotes_of(text)
    assert brief(q)[:4] == ("کرملین", "توصیف کرد", "گفتگویی سازنده", "direct")


def test_unmarked_complement_of_a_naming_verb_stays_nominal():
    [q] = quotes_of("وی سفر البرادعی به ایران را مثبت توصیف کرد و گفت: دنیا فهمید.")
    assert brief(q)[:4] == ("وی", "گفت", "دنیا فهمید.", "direct")


def test_marks_that_are_no_naming_verbs_complement_are_no_quote():
    assert quotes_of("«دیمیتری پسکوف» سخنگوی کاخ کرملین امروز به مسکو بازگشت.") == []
    assert quotes_of("وی در پایان تفکر بسیجی را اطاعت از «اولی‌الامر» توصیف کرد.") == []  # partly marked
    # Inside a colon quote (fars-2-0275) it is part of the outer quote, not a quote of its own (2.4).
    text = "جاکوب افزود: استراتژیستها این سیاست را «نابودی مطمئن متقابل» نامیده‌اند و این سیاستی ناپسند است."
    [q] = quotes_of(text)
    assert brief(q)[:3] == ("جاکوب", "افزود", text[text.index(": ") + 2:])
