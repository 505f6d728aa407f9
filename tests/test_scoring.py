import pytest

from qa_pipeline.interactions import Interaction, Turn
from qa_pipeline.scoring import score_interactions


def chat(lang, *agent_lines, customer="I have a problem.", channel="chat"):
    turns = [Turn(speaker="customer", text=customer)]
    turns += [Turn(speaker="agent", text=line) for line in agent_lines]
    return Interaction(
        id=f"{channel}:test:{abs(hash(agent_lines))}",
        channel=channel,
        agent_id="a1",
        language=lang,
        turns=turns,
    )


# (language, agent line, criterion, expected result): natural sentences, inflected and
# informal forms, and sentences that must not match.
CASES = [
    ("en", "Hi there, Sarah here!", "greeting", "pass"),
    ("en", "I'm so sorry to hear about the delay.", "empathy", "pass"),
    ("en", "I apologized to the courier already.", "empathy", "pass"),  # inflected: apologize
    ("en", "I'm not sorry, those are the rules.", "empathy", "fail"),  # negated
    ("en", "Honestly I never apologize for policy.", "empathy", "fail"),
    ("en", "Calm down, please.", "positive_language", "fail"),
    ("en", "No problem, happy to help!", "positive_language", "pass"),
    ("en", "I've issued the refund to your card.", "resolution", "pass"),
    ("en", "Thanks so much for waiting!", "thanks", "pass"),
    ("cs", "Dobrý den, u telefonu Petra.", "greeting", "pass"),
    ("cs", "Moc se omlouváme, je mi to líto.", "empathy", "pass"),
    ("cs", "Chápu, to musí být nepříjemné.", "empathy", "pass"),
    ("cs", "Nechápu, co po mně chcete.", "empathy", "fail"),  # negation prefix
    ("cs", "Není mi to líto.", "empathy", "fail"),
    ("cs", "Uklidněte se prosím.", "positive_language", "fail"),
    ("cs", "Samozřejmě, rád vám pomohu.", "positive_language", "pass"),
    ("cs", "Fakturu jsem vám poslala znovu.", "resolution", "pass"),  # word order, inflection
    ("cs", "Díky a hezký den!", "thanks", "pass"),
    ("sl", "Dober dan, moje ime je Maja.", "greeting", "pass"),
    ("sl", "Oprostite za nevšečnosti, razumem vas.", "empathy", "pass"),
    ("sl", "Pomirite se.", "positive_language", "fail"),
    ("sl", "Račun sem popravila, zdaj deluje.", "resolution", "pass"),
    ("sl", "Najlepša hvala za potrpežljivost.", "thanks", "pass"),
    ("lt", "Laba diena, mano vardas Rūta.", "greeting", "pass"),
    ("lt", "Atsiprašome dėl nepatogumų.", "empathy", "pass"),
    ("lt", "Nusiraminkite.", "positive_language", "fail"),
    ("lt", "Išsiunčiau jums naują nuorodą.", "resolution", "pass"),
    ("lt", "Labai ačiū!", "thanks", "pass"),
    ("ru", "Здравствуйте, меня зовут Иван.", "greeting", "pass"),
    ("ru", "Приносим извинения за неудобства.", "empathy", "pass"),
    ("ru", "Я не понимаю, что вы хотите.", "empathy", "fail"),  # negated "понимаю"
    ("ru", "Успокойтесь, пожалуйста.", "positive_language", "fail"),
    ("ru", "Я оформил возврат средств.", "resolution", "pass"),
    ("ru", "Спасибо за ожидание!", "thanks", "pass"),
    # English: informal, inflected, and look-alikes that must not match
    ("en", "hey there, how can I help?", "greeting", "pass"),
    ("en", "sry about that!!", "empathy", "pass"),
    ("en", "I totally understand how annoying this is.", "empathy", "pass"),
    ("en", "I don't understand what you mean.", "empathy", "fail"),
    ("en", "You'll get it when you get it, whatever.", "positive_language", "fail"),
    ("en", "I've reset your password, you can log in now.", "resolution", "pass"),
    ("en", "I have no idea when it will be fixed.", "resolution", "fail"),
    ("en", "thx, bye", "thanks", "pass"),
    ("en", "Goodbye.", "thanks", "fail"),
    # Czech
    ("cs", "Ahoj, tady Petra z podpory.", "greeting", "pass"),
    ("cs", "Strašně mě mrzí, že to nefungovalo.", "empathy", "pass"),
    ("cs", "Za to se neomlouvám.", "empathy", "fail"),
    ("cs", "To není moje oddělení.", "positive_language", "fail"),
    ("cs", "Určitě vám s tím pomůžu.", "positive_language", "pass"),
    ("cs", "Už jsem to opravila, mělo by to fungovat.", "resolution", "pass"),
    ("cs", "Nevím, kdy to bude.", "resolution", "fail"),
    ("cs", "Děkuju moc!", "thanks", "pass"),
    ("cs", "Na shledanou.", "thanks", "fail"),
    # Slovene
    ("sl", "Živjo, tukaj Maja.", "greeting", "pass"),
    ("sl", "Opravičujem se za zamudo.", "empathy", "pass"),
    ("sl", "Ne razumem, kaj želite.", "empathy", "fail"),
    ("sl", "Seveda, z veseljem pomagam.", "positive_language", "pass"),
    ("sl", "Rešila sem težavo, zdaj deluje.", "resolution", "pass"),
    ("sl", "Hvala lepa in lep dan.", "thanks", "pass"),
    ("sl", "Nasvidenje.", "thanks", "fail"),
    # Lithuanian
    ("lt", "Sveiki, čia Rūta.", "greeting", "pass"),
    ("lt", "Labai atsiprašau dėl vėlavimo.", "empathy", "pass"),
    ("lt", "Nesuprantu, ko norite.", "empathy", "fail"),
    ("lt", "Žinoma, mielai padėsiu.", "positive_language", "pass"),
    ("lt", "Tai ne mano problema.", "positive_language", "fail"),
    ("lt", "Sąskaitą atnaujinau, dabar viskas veikia.", "resolution", "pass"),
    ("lt", "Ačiū, kad palaukėte!", "thanks", "pass"),
    ("lt", "Viso gero.", "thanks", "fail"),
    # Russian
    ("ru", "Привет! Чем могу помочь?", "greeting", "pass"),
    ("ru", "Извините за задержку.", "empathy", "pass"),
    ("ru", "Я не извиняюсь.", "empathy", "fail"),
    ("ru", "Конечно, с удовольствием помогу.", "positive_language", "pass"),
    ("ru", "Это ваши проблемы.", "positive_language", "fail"),
    ("ru", "Я отправила вам новую ссылку.", "resolution", "pass"),
    ("ru", "Не знаю, когда починят.", "resolution", "fail"),
    ("ru", "Спасибо большое!", "thanks", "pass"),
    ("ru", "До свидания.", "thanks", "fail"),
]


@pytest.mark.parametrize(("lang", "line", "criterion", "expected"), CASES)
def test_phrase_packs(rubric, lang, line, criterion, expected):
    [score] = score_interactions([chat(lang, line)], rubric)
    assert score.criteria[criterion].result == expected, score.criteria[criterion]


def test_every_pass_has_evidence_that_points_into_the_turn(rubric):
    item = chat(
        "en",
        "Hello, thanks for contacting Acme. I'm sorry to hear that!",
        "I have sent a new one. Thank you!",
    )
    [score] = score_interactions([item], rubric)
    passes = [r for r in score.criteria.values() if r.result == "pass"]
    assert len(passes) >= 4
    for result in passes:
        assert result.evidence
        for e in result.evidence:
            assert item.turns[e.turn].text[e.start : e.end] == e.text
            # a classifier pass quotes its sentence; a rule pass also names the words matched
            assert (e.match is None) if e.kind == "model" else (e.match.lower() in e.text.lower())


def test_customer_words_do_not_earn_agent_points(rubric):
    item = chat("en", "Okay.", customer="Thank you, I'm sorry, I understand, hello!")
    [score] = score_interactions([item], rubric)
    assert score.criteria["thanks"].result == "fail"
    assert score.criteria["empathy"].result == "fail"


def test_windows_greeting_only_at_the_start(rubric):
    late = chat("en", "Okay.", "Let me see.", "Hello again, good morning!")
    [score] = score_interactions([late], rubric)
    assert score.criteria["greeting"].result == "fail"


def test_score_is_the_weighted_share_of_passed_criteria(rubric):
    item = chat("en", "Hello, I'm sorry to hear that. Of course, I have issued a refund.", "Okay bye.")
    [score] = score_interactions([item], rubric)
    weights = {c.id: c.weight for c in rubric.criteria}
    passed = [cid for cid, r in score.criteria.items() if r.result == "pass"]
    assert "thanks" not in passed and "resolution" in passed
    assert score.score == pytest.approx(
        round(100 * sum(weights[c] for c in passed) / sum(weights.values()), 1)
    )


def test_critical_fail_zeroes_the_score_and_flags_it(rubric):
    item = chat("en", "Hello, I'm sorry to hear that. Happy to help.", "Thank you!")
    [score] = score_interactions([item], rubric)
    critical = [c.id for c in rubric.criteria if c.critical]
    assert score.criteria[critical[0]].result == "fail"
    assert score.score == 0.0
    assert any(f.code == "critical_fail" and f.criterion == critical[0] for f in score.flags)


def test_negative_language_is_flagged_with_the_offending_span(rubric):
    item = chat("en", "Hello. Calm down, that's not my department.")
    [score] = score_interactions([item], rubric)
    flag = next(f for f in score.flags if f.code == "negative_language")
    assert {e.match.lower() for e in flag.evidence} >= {"calm down", "not my department"}


def test_no_agent_turns_makes_every_criterion_na(rubric):
    item = Interaction(
        id="email:m:1",
        channel="email",
        language="en",
        turns=[Turn(speaker="customer", text="Hello, where is my parcel?")],
    )
    [score] = score_interactions([item], rubric)
    assert {r.result for r in score.criteria.values()} == {"na"}
    assert [f.code for f in score.flags] == ["no_agent_turns"]


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Dobrý den, omlouvám se za zpoždění, fakturu jsem poslala.", "cs"),
        ("Здравствуйте, приносим извинения за задержку.", "ru"),
        ("Pozdravljeni, oprostite za zamudo, račun sem popravila.", "sl"),
        ("Laba diena, atsiprašome už vėlavimą, sąskaitą išsiunčiau.", "lt"),
    ],
)
def test_language_is_detected_when_absent(rubric, text, lang):
    [score] = score_interactions([chat(None, text)], rubric)
    assert score.language == lang
    assert score.criteria["greeting"].result == "pass"


def test_scores_are_deterministic(rubric):
    items = [
        chat("en", "Hello, sorry about that, I have fixed it. Thanks!"),
        chat("cs", "Dobrý den. Musíte počkat."),
    ]
    assert score_interactions(items, rubric) == score_interactions(items, rubric)


@pytest.mark.parametrize(
    ("customer_lines", "code"),
    [
        (["I want to speak to a manager right now."], "escalation"),
        (["Chci mluvit s vedoucím!"], "escalation"),
        (["Позовите руководителя."], "escalation"),
        (["Ok.", "This is still not working, unacceptable."], "customer_upset_at_end"),
        (
            ["Pořád to nefunguje.", "Zkusím to znovu.", "Díky, už to jde, jsem spokojen."],
            None,
        ),  # upset early, fine at the end
        (["I'm not unhappy, all good."], None),
    ],
)
def test_supervisor_cues(rubric, customer_lines, code):
    lang = (
        "cs"
        if "Pořád" in customer_lines[0] or "Chci" in customer_lines[0]
        else ("ru" if "Позовите" in customer_lines[0] else "en")
    )
    turns = [Turn(speaker="agent", text="Hello.")]
    for line in customer_lines:
        turns += [Turn(speaker="customer", text=line), Turn(speaker="agent", text="Okay.")]
    [score] = score_interactions(
        [Interaction(id="chat:t:cue", channel="chat", language=lang, turns=turns)], rubric
    )
    cue_codes = {f.code for f in score.flags} & {"escalation", "customer_upset_at_end"}
    assert cue_codes == ({code} if code else set())
    for flag in score.flags:
        if flag.code == code:
            assert flag.evidence and all(turns[e.turn].speaker == "customer" for e in flag.evidence)


def test_low_score_and_long_silence_flags_follow_the_rubric(rubric):
    call = Interaction(
        id="call:t:1",
        channel="call",
        language="en",
        metadata={"metrics": {"longest_silence_s": 45.0}},
        turns=[
            Turn(speaker="agent", text="Hello."),
            Turn(speaker="customer", text="My router is broken again."),
        ],
    )
    [score] = score_interactions([call], rubric)
    codes = {f.code for f in score.flags}
    assert "long_silence" in codes and "low_score" in codes and score.score < rubric.flags.score_below
    lenient = rubric.model_copy(
        update={"flags": rubric.flags.model_copy(update={"score_below": None, "long_silence_s": 60.0})}
    )
    [again] = score_interactions([call], lenient)
    assert not {"long_silence", "low_score"} & {f.code for f in again.flags}


@pytest.mark.parametrize(
    ("line", "upset"),
    [
        ("Nejsem spokojen.", True),
        ("Jsem spokojen, díky.", False),  # "nejsem" and "jsem" share the lemma "být"
        ("To je nepřijatelné!", True),
        ("To je přijatelné.", False),
    ],
)
def test_prefix_negation_counts_on_both_sides(rubric, line, upset):
    turns = [Turn(speaker="agent", text="Dobrý den."), Turn(speaker="customer", text=line)]
    [score] = score_interactions(
        [Interaction(id="chat:t:neg", channel="chat", language="cs", turns=turns)], rubric
    )
    assert ("customer_upset_at_end" in {f.code for f in score.flags}) == upset


# Common contact-centre phrasings, and their negated look-alikes that must not count.
COMMON = [
    ("en", "Good day, you're chatting with Anna.", "greeting", "pass"),
    ("en", "Thanks for getting in touch! How may I assist you?", "greeting", "pass"),
    ("en", "I completely understand your frustration.", "empathy", "pass"),
    ("en", "Sorry for any inconvenience this has caused.", "empathy", "pass"),
    ("en", "We sincerely apologize for the trouble.", "empathy", "pass"),
    ("en", "No worries, I'll take care of that for you.", "positive_language", "pass"),
    ("en", "It's your fault, read the manual.", "positive_language", "fail"),
    ("en", "Your refund has been processed.", "resolution", "pass"),
    ("en", "Your account is now active again.", "resolution", "pass"),
    ("en", "I went ahead and cancelled the order.", "resolution", "pass"),
    ("en", "You're all set!", "resolution", "pass"),
    ("en", "A technician will visit you tomorrow between 8 and 12.", "resolution", "pass"),
    ("en", "Many thanks, much appreciated!", "thanks", "pass"),
    ("en", "Thank you for your understanding.", "thanks", "pass"),
    ("cs", "S čím vám mohu pomoci?", "greeting", "pass"),
    ("cs", "Rozumím, to je nepříjemné.", "empathy", "pass"),
    ("cs", "Zařídila jsem vrácení peněz.", "resolution", "pass"),
    ("cs", "Objednávku jsem stornovala.", "resolution", "pass"),
    ("cs", "Technik k vám přijde zítra.", "resolution", "pass"),
    ("sl", "Vrnili smo vam denar.", "resolution", "pass"),
    ("sl", "Uredila sem vse potrebno.", "resolution", "pass"),
    ("lt", "Pinigus grąžinsime per tris dienas.", "resolution", "pass"),
    ("lt", "Problemą išsprendėme.", "resolution", "pass"),
    ("ru", "Мы вернули вам деньги.", "resolution", "pass"),
    ("ru", "Возврат оформлен.", "resolution", "pass"),
    ("ru", "Я не могу вернуть деньги.", "resolution", "fail"),
    ("ru", "Большое спасибо за понимание!", "thanks", "pass"),
    ("ru", "Добрый день! Чем могу помочь?", "greeting", "pass"),
    ("sl", "Hvala za razumevanje.", "thanks", "pass"),
    ("lt", "Ačiū už kantrybę.", "thanks", "pass"),
    ("en", "The technician will not come today.", "resolution", "fail"),
    ("en", "It has not been fixed yet.", "resolution", "fail"),
    ("en", "It cannot be refunded.", "resolution", "fail"),
    ("en", "You will not receive a refund.", "resolution", "fail"),
    ("en", "Your account is not active.", "resolution", "fail"),
    ("cs", "Technik dnes nepřijde.", "resolution", "fail"),
    ("cs", "Objednávku jsem nezrušila.", "resolution", "fail"),
    ("ru", "Мы не вернули деньги.", "resolution", "fail"),
    ("sl", "Denarja nismo vrnili.", "resolution", "fail"),
    ("en", "How can I help it, the system is down.", "greeting", "pass"),
]


# The same for greeting, empathy, positive language and thanks in cs, sl, lt and ru.
COMMON += [
    ("cs", "Dobrý večer, tady podpora Acme.", "greeting", "pass"),
    ("cs", "Chápu vaši frustraci.", "empathy", "pass"),
    ("cs", "Je nám líto, že se to stalo.", "empathy", "pass"),
    ("cs", "Rádi vám pomůžeme.", "positive_language", "pass"),
    ("cs", "Samozřejmě, žádný problém.", "positive_language", "pass"),
    ("cs", "To není můj problém.", "positive_language", "fail"),
    ("cs", "Děkujeme za trpělivost.", "thanks", "pass"),
    ("cs", "Děkuji za pochopení.", "thanks", "pass"),
    ("sl", "Razumem vašo frustracijo.", "empathy", "pass"),
    ("sl", "Opravičujemo se za nevšečnosti.", "empathy", "pass"),
    ("sl", "Seveda, z veseljem.", "positive_language", "pass"),
    ("sl", "Hvala za potrpežljivost.", "thanks", "pass"),
    ("lt", "Labas, čia Rūta iš Acme.", "greeting", "pass"),
    ("lt", "Suprantu jūsų nusivylimą.", "empathy", "pass"),
    ("lt", "Atsiprašome už nepatogumus.", "empathy", "pass"),
    ("lt", "Žinoma, mielai padėsime.", "positive_language", "pass"),
    ("lt", "Dėkojame už kantrybę.", "thanks", "pass"),
    ("ru", "Доброе утро! Меня зовут Ольга.", "greeting", "pass"),
    ("ru", "Понимаю ваше разочарование.", "empathy", "pass"),
    ("ru", "Приносим свои извинения.", "empathy", "pass"),
    ("ru", "Конечно, с радостью помогу.", "positive_language", "pass"),
    ("ru", "Это не моя проблема.", "positive_language", "fail"),
    ("ru", "Спасибо за терпение!", "thanks", "pass"),
    ("ru", "Благодарим за обращение.", "thanks", "pass"),
    ("ru", "Я не приношу извинений.", "empathy", "fail"),
    ("ru", "Без извинений, правила есть правила.", "empathy", "fail"),
]


@pytest.mark.parametrize(("lang", "line", "criterion", "expected"), COMMON)
def test_common_phrasings_and_negated_look_alikes(rubric, lang, line, criterion, expected):
    item = chat(lang, line, customer="My internet has been broken since Monday, please help.")
    [score] = score_interactions([item], rubric)
    assert score.criteria[criterion].result == expected, score.criteria[criterion]
