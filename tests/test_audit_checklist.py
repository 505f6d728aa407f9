"""The audit-checklist rubric (rubrics/audit-checklist.yaml): each new criterion passes on the
step it checks and does not pass without it, in all five languages, with negation, and is
N/A when its topic (a hold, a refusal, a reported failure) never comes up. The sentences are
the team's own: they test behaviour, they are not evidence of accuracy."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from qa_pipeline.cli import app as cli
from qa_pipeline.interactions import Interaction, Turn
from qa_pipeline.rubric import load_rubric
from qa_pipeline.scoring import score_interactions

ROOT = Path(__file__).resolve().parents[1]
RUBRIC = ROOT / "rubrics" / "audit-checklist.yaml"

# One set of lines per language: what an agent or customer says in each situation.
LINES = {
    "en": {
        "intro": "Thank you for calling Acme, my name is Anna.",
        "name_only": "Hi, my name is Anna.",
        "greet": "Hello, how can I help?",
        "failure": "My internet is not working since yesterday.",
        "no_failure": "My internet isn't broken, I just want to know my balance.",
        "question": "I would like to know my balance, please.",
        "confirm": "Just to confirm, your connection has been down since yesterday?",
        "plain": "I see.",
        "ask_hold": "Can I put you on hold for a moment?",
        "hold": "One moment, let me check.",
        "thanks_wait": "Thank you for holding.",
        "refusal": "We can't refund this order.",
        "alternative": "We can't refund this order, but I can offer a replacement.",
        "sorry": "I'm sorry about that.",
        "not_sorry": "I'm not sorry, that is the rule.",
        "closing": "Is there anything else I can help you with?",
        "not_closing": "I can't help with anything else.",
        "bye": "Goodbye.",
        "short": "Hi",
    },
    "cs": {
        "intro": "Dobrý den, jmenuji se Anna ze společnosti Telco.",
        "name_only": "Dobrý den, jmenuji se Anna.",
        "greet": "Dobrý den, jak vám mohu pomoci?",
        "failure": "Internet mi nefunguje už od včerejška.",
        "no_failure": "Internet mi funguje, jen bych chtěl znát zůstatek.",
        "question": "Chtěl bych znát zůstatek na účtu, prosím.",
        "confirm": "Pokud tomu dobře rozumím, připojení nejde od včerejška?",
        "plain": "Dobře.",
        "ask_hold": "Můžete chvilku počkat, než to ověřím?",
        "hold": "Okamžik, podívám se na to.",
        "thanks_wait": "Děkuji za strpení.",
        "refusal": "Tuto objednávku nemůžeme vrátit.",
        "alternative": "Tuto objednávku nemůžeme vrátit, ale můžu vám nabídnout výměnu.",
        "sorry": "Omlouvám se za potíže.",
        "not_sorry": "Neomlouvám se, takové je pravidlo.",
        "closing": "Můžu vám ještě s něčím pomoci?",
        "bye": "Na shledanou.",
        "short": "Ahoj",
    },
    "sl": {
        "intro": "Dober dan, moje ime je Ana iz podjetja Telco.",
        "name_only": "Dober dan, moje ime je Ana.",
        "greet": "Dober dan, kako vam lahko pomagam?",
        "failure": "Internet ne deluje že od včeraj.",
        "no_failure": "Internet deluje, samo stanje na računu bi rad izvedel.",
        "question": "Rad bi izvedel stanje na računu, prosim.",
        "confirm": "Če prav razumem, povezava ne deluje od včeraj?",
        "plain": "V redu.",
        "ask_hold": "Ali lahko počakate trenutek, da preverim?",
        "hold": "Trenutek, preverim.",
        "thanks_wait": "Hvala za potrpežljivost.",
        "refusal": "Tega naročila ne moremo vrniti.",
        "alternative": "Tega naročila ne moremo vrniti, lahko pa vam ponudim zamenjavo.",
        "sorry": "Oprostite za težave.",
        "not_sorry": "Ne opravičujem se, tako je pravilo.",
        "closing": "Vam lahko še kako pomagam?",
        "bye": "Nasvidenje.",
        "short": "Živjo",
    },
    "lt": {
        "intro": "Laba diena, mano vardas Ona, skambinu iš Telco.",
        "name_only": "Laba diena, mano vardas Ona.",
        "greet": "Laba diena, kuo galiu padėti?",
        "failure": "Internetas neveikia nuo vakar.",
        "no_failure": "Internetas veikia, norėčiau tik sužinoti likutį.",
        "question": "Norėčiau sužinoti sąskaitos likutį.",
        "confirm": "Jei teisingai supratau, ryšys neveikia nuo vakar?",
        "plain": "Gerai.",
        "ask_hold": "Ar galite palaukti, kol patikrinsiu?",
        "hold": "Akimirką, patikrinsiu.",
        "thanks_wait": "Ačiū už kantrybę.",
        "refusal": "Šio užsakymo grąžinti negalime.",
        "alternative": "Šio užsakymo grąžinti negalime, bet galiu pasiūlyti pakeitimą.",
        "sorry": "Atsiprašau dėl nepatogumų.",
        "not_sorry": "Neatsiprašau, tokios taisyklės.",
        "closing": "Ar galiu dar kuo nors padėti?",
        "bye": "Viso gero.",
        "short": "Labas",
    },
    "ru": {
        "intro": "Здравствуйте, меня зовут Анна, компания Телко.",
        "name_only": "Здравствуйте, меня зовут Анна.",
        "greet": "Здравствуйте, чем могу помочь?",
        "failure": "У меня не работает интернет со вчерашнего дня.",
        "no_failure": "Интернет работает, я просто хочу узнать баланс.",
        "question": "Хочу узнать баланс на счёте.",
        "confirm": "Если я правильно понял, связи нет со вчерашнего дня?",
        "plain": "Хорошо.",
        "ask_hold": "Вы можете подождать, пока я проверю?",
        "hold": "Одну минуту, я проверю.",
        "thanks_wait": "Спасибо за ожидание.",
        "refusal": "Мы не можем вернуть этот заказ.",
        "alternative": "Мы не можем вернуть этот заказ, но я могу предложить замену.",
        "sorry": "Извините за неудобства.",
        "not_sorry": "Я не извиняюсь, таковы правила.",
        "closing": "Могу ли я ещё чем-то помочь?",
        "bye": "До свидания.",
        "short": "Привет",
    },
}

A, C = "agent", "customer"
# criterion, expected result, the conversation as (speaker, line) pairs, and what it shows
CASES = [
    ("self_introduction", "pass", [(A, "intro"), (C, "question"), (A, "plain")], "name and company"),
    ("self_introduction", "fail", [(A, "name_only"), (C, "question"), (A, "plain")], "name without company"),
    ("self_introduction", "fail", [(A, "greet"), (C, "question"), (A, "plain")], "no introduction"),
    ("problem_confirmation", "pass", [(A, "greet"), (C, "failure"), (A, "confirm")], "confirms"),
    ("problem_confirmation", "fail", [(A, "greet"), (C, "failure"), (A, "plain")], "does not confirm"),
    ("problem_confirmation", "na", [(A, "greet"), (C, "short"), (A, "plain")], "nothing to confirm"),
    (
        "hold_etiquette",
        "pass",
        [(A, "greet"), (C, "question"), (A, "ask_hold"), (A, "thanks_wait")],
        "asks, thanks",
    ),
    (
        "hold_etiquette",
        "fail",
        [(A, "greet"), (C, "question"), (A, "hold"), (A, "thanks_wait")],
        "no permission",
    ),
    (
        "hold_etiquette",
        "fail",
        [(A, "greet"), (C, "question"), (A, "ask_hold"), (A, "plain")],
        "no thanks after",
    ),
    (
        "hold_etiquette",
        "fail",
        [(A, "greet"), (C, "question"), (A, "thanks_wait"), (A, "ask_hold")],
        "thanks first",
    ),
    ("hold_etiquette", "na", [(A, "greet"), (C, "question"), (A, "plain")], "no hold"),
    ("alternatives", "pass", [(A, "greet"), (C, "question"), (A, "alternative")], "refusal with alternative"),
    ("alternatives", "fail", [(A, "greet"), (C, "question"), (A, "refusal")], "bare refusal"),
    ("alternatives", "na", [(A, "greet"), (C, "question"), (A, "plain")], "no refusal"),
    ("apology_for_failure", "pass", [(A, "greet"), (C, "failure"), (A, "sorry")], "apologises"),
    ("apology_for_failure", "fail", [(A, "greet"), (C, "failure"), (A, "plain")], "no apology"),
    ("apology_for_failure", "fail", [(A, "greet"), (C, "failure"), (A, "not_sorry")], "negated apology"),
    ("apology_for_failure", "na", [(A, "greet"), (C, "question"), (A, "sorry")], "no failure"),
    ("apology_for_failure", "na", [(A, "greet"), (C, "no_failure"), (A, "plain")], "failure denied"),
    ("closing_question", "pass", [(A, "greet"), (C, "question"), (A, "plain"), (A, "closing")], "asks"),
    ("closing_question", "fail", [(A, "greet"), (C, "question"), (A, "plain"), (A, "bye")], "does not ask"),
    (
        "closing_question",
        "fail",
        [(A, "closing"), (C, "question"), (A, "plain"), (A, "confirm"), (A, "bye")],
        "asked before the last three turns",
    ),
]
NEGATED_CLOSING = [(A, "greet"), (C, "question"), (A, "plain"), (A, "not_closing")]


@pytest.fixture(scope="module")
def rubric():
    return load_rubric(RUBRIC)


def conversation(lang: str, lines: list[tuple[str, str]], channel: str = "chat", **meta) -> Interaction:
    return Interaction(
        id=f"{channel}:audit:{lang}",
        channel=channel,
        agent_id="a1",
        language=lang,
        turns=[Turn(speaker=who, text=LINES[lang][line]) for who, line in lines],
        metadata=meta,
    )


def result_of(rubric, item: Interaction, criterion: str):
    [score] = score_interactions([item], rubric)
    return score.criteria[criterion]


@pytest.mark.parametrize("lang", sorted(LINES))
@pytest.mark.parametrize(
    ("criterion", "expected", "lines", "what"), CASES, ids=[f"{c}-{e}-{w}" for c, e, _, w in CASES]
)
def test_each_checklist_criterion_in_each_language(rubric, lang, criterion, expected, lines, what):
    r = result_of(rubric, conversation(lang, lines), criterion)
    assert r.result == expected, (lang, what, r.reason, [e.match for e in r.evidence])
    if expected != "na":  # every pass and fail shows where it was decided, or says what is missing
        assert r.evidence or r.reason


def test_a_negated_closing_question_does_not_count(rubric):
    r = result_of(rubric, conversation("en", NEGATED_CLOSING), "closing_question")
    assert r.result == "fail"


@pytest.mark.parametrize("lang", sorted(LINES))
def test_topic_evidence_and_reasons_name_what_happened(rubric, lang):
    """A topic-conditional result shows the sentence that raised the topic (kind "topic"),
    and its reason says what is missing; the N/A reason names the topic."""
    failed = result_of(
        rubric, conversation(lang, [(A, "greet"), (C, "failure"), (A, "plain")]), "apology_for_failure"
    )
    [topic] = [e for e in failed.evidence if e.kind == "topic"]
    assert topic.turn == 1 and topic.text.strip() == LINES[lang]["failure"]
    assert failed.reason.startswith("the customer: ") and "apology" in failed.reason
    held = result_of(
        rubric,
        conversation(lang, [(A, "greet"), (C, "question"), (A, "ask_hold"), (A, "plain")]),
        "hold_etiquette",
    )
    assert "but no thanks for waiting after it" in held.reason
    none = result_of(
        rubric, conversation(lang, [(A, "greet"), (C, "question"), (A, "plain")]), "alternatives"
    )
    assert none.reason == "no refusal by the agent in the conversation" and none.score is None


def test_a_long_silence_on_a_call_counts_as_a_hold(rubric):
    """Hold etiquette applies on a call with a long silence even when nobody said "hold"."""
    lines = [(A, "greet"), (C, "question"), (A, "plain")]
    quiet = conversation("en", lines, channel="call", metrics={"longest_silence_s": 45.0})
    r = result_of(rubric, quiet, "hold_etiquette")
    assert r.result == "fail" and "45 s silence" in r.reason
    short = conversation("en", lines, channel="call", metrics={"longest_silence_s": 5.0})
    assert result_of(rubric, short, "hold_etiquette").result == "na"


def test_na_criteria_leave_the_score(rubric):
    """With no hold, refusal or failure, those three are N/A and the score is over the rest."""
    lines = [(A, "intro"), (C, "question"), (A, "confirm"), (A, "closing")]
    [score] = score_interactions([conversation("en", lines)], rubric)
    na = {c for c, r in score.criteria.items() if r.result == "na"}
    assert {"hold_etiquette", "alternatives", "apology_for_failure"} <= na
    applied = [c for c in rubric.criteria if c.id not in na]
    weights = {c.id: c.weight for c in applied}
    passed = sum(weights[c] for c, r in score.criteria.items() if c in weights and r.result == "pass")
    assert score.score == pytest.approx(100 * passed / sum(weights.values()), abs=0.1)


def test_the_checklist_validates_and_explains_itself():
    runner = CliRunner()
    done = runner.invoke(cli, ["rubric", "validate", str(RUBRIC)])
    assert done.exit_code == 0, done.output
    explained = runner.invoke(cli, ["rubric", "explain", str(RUBRIC)])
    assert explained.exit_code == 0, explained.output
    for words in ("Hold etiquette", "hold or transfer", "thanks for waiting", "refusal by the agent"):
        assert words in explained.output, words


def test_applies_when_needs_something_that_raises_the_topic(tmp_path):
    from qa_pipeline.rubric import rubric_problems

    path = tmp_path / "r.yaml"
    path.write_text(
        "id: r\nversion: 1\nname: R\nlanguages: [en]\ncriteria:\n"
        "  - {id: c, name: C, weight: 1, phrases: {en: [sorry]}, applies_when: {topic: failure}}\n",
        encoding="utf-8",
    )
    rubric, problems = rubric_problems(path)
    assert rubric is None and any("something that raises the topic" in p for p in problems), problems


# audit-checklist@3: Czech phrasings added from a real corpus's study half (see
# models/checklist_figures.md), tried here on the team's own sentences in another domain.
CZECH_V3 = [
    ("alternatives", "Bohužel jsem v systému nenašla žádnou platbu.", "fail"),
    ("alternatives", "Volný termín jsem bohužel nenašel, ale můžu vám nabídnout čtvrtek.", "pass"),
    ("alternatives", "Nejsou tu žádné volné termíny.", "fail"),
    ("alternatives", "Nepodařilo se mi najít vaši objednávku.", "fail"),
    ("alternatives", "Není tu žádný problém, vše je vyřízeno.", "na"),  # no problem: no refusal
    ("alternatives", "Nejsou žádné poplatky navíc.", "na"),
    ("alternatives", "Našla jsem vaši objednávku.", "na"),
    ("alternatives", "Pokud jste nenašel, co hledáte, napište nám.", "na"),  # "you", not the agent
    ("problem_confirmation", "Mohu se ujistit, že vám zásilka nepřišla?", "pass"),
    ("problem_confirmation", "Pro potvrzení: internet nejde od pondělí?", "pass"),
    ("problem_confirmation", "Zásilka je na cestě.", "fail"),
    ("closing_question", "Mohu vám ještě nějak pomoci?", "pass"),
    ("closing_question", "Můžu vám pomoci s něčím dalším?", "pass"),
    ("closing_question", "Zásilka dorazí zítra.", "fail"),
]


# The same no-match refusals in the other languages (team-written phrases, not measured).
NO_MATCH = [
    ("sl", "Žal nisem našla vašega naročila.", "fail"),
    ("sl", "Vašega naročila ne najdem v sistemu.", "fail"),
    ("sl", "Ni nobenega prostega termina.", "fail"),
    ("sl", "Ni nobenega problema, vse je urejeno.", "na"),
    ("sl", "Našla sem vaše naročilo.", "na"),
    ("lt", "Deja, jūsų užsakymo neradau.", "fail"),
    ("lt", "Nepavyko rasti jūsų mokėjimo.", "fail"),
    ("lt", "Nėra jokio laisvo laiko šią savaitę.", "fail"),
    ("lt", "Nėra jokio mokesčio.", "na"),
    ("lt", "Radau jūsų užsakymą.", "na"),
    ("ru", "К сожалению, ваш заказ в системе не найден.", "fail"),
    ("ru", "Свободных окон не нашлось.", "fail"),
    ("ru", "Нет ни одного свободного окна.", "fail"),
    ("ru", "Нет ни одного повода для беспокойства.", "na"),
    ("ru", "Я нашла ваш заказ.", "na"),
]


def three_turns(lang: str, line: str) -> Interaction:
    """A greeting, the customer's question and ``line`` from the agent, in ``lang``."""
    return Interaction(
        id=f"chat:audit:{lang}3",
        channel="chat",
        agent_id="a1",
        language=lang,
        turns=[
            Turn(speaker="agent", text=LINES[lang]["greet"]),
            Turn(speaker="customer", text=LINES[lang]["question"]),
            Turn(speaker="agent", text=line),
        ],
    )


@pytest.mark.parametrize(("lang", "line", "expected"), NO_MATCH)
def test_no_match_refusals_in_other_languages(rubric, lang, line, expected):
    r = result_of(rubric, three_turns(lang, line), "alternatives")
    assert r.result == expected, (line, r.reason, [e.match for e in r.evidence])


@pytest.mark.parametrize(("criterion", "line", "expected"), CZECH_V3)
def test_czech_refusals_confirmations_and_closing_questions(rubric, criterion, line, expected):
    item = three_turns("cs", line)
    r = result_of(rubric, item, criterion)
    assert r.result == expected, (line, r.reason, [e.match for e in r.evidence])


# audit-checklist@5: the phone opening "here is <name> from <company>", and what is no
# introduction though it has "here ... from"
HERE_FROM = [
    ("cs", "Dobrý den, tady Jana z Telca.", "pass"),
    ("cs", "dobry den tady jana z telca", "pass"),  # a transcript: no capitals, no accents
    ("cs", "Tady máte odkaz z našeho webu.", "fail"),
    ("cs", "Tady je odkaz z webu.", "fail"),
    ("sl", "Dober dan, tukaj Maja iz podjetja Telco.", "pass"),
    ("sl", "Tukaj imate povezavo iz spletne strani.", "fail"),
    ("lt", "Laba diena, čia Rūta iš Telco.", "pass"),
    ("lt", "Čia yra nuoroda iš svetainės.", "fail"),
]


@pytest.mark.parametrize(("lang", "line", "expected"), HERE_FROM)
def test_here_is_name_from_company(rubric, lang, line, expected):
    item = Interaction(
        id=f"chat:audit:{lang}5",
        channel="chat",
        agent_id="a1",
        language=lang,
        turns=[Turn(speaker="agent", text=line), Turn(speaker="customer", text=LINES[lang]["question"])],
    )
    r = result_of(rubric, item, "self_introduction")
    assert r.result == expected, (line, r.reason, [e.match for e in r.evidence])


# audit-checklist@6: the agent's own next move, not the customer's task, raises a hold
HOLD_TOPIC = [
    ("cs", "Podívejte se prosím do e-mailu, poslali jsme vám odkaz.", "na"),
    ("cs", "Ověřte si to prosím v aplikaci.", "na"),
    ("cs", "Hned to ověřím.", "fail"),  # a hold without asking
    ("sl", "Takoj preverim.", "fail"),
    ("lt", "Patikrinkite el. paštą.", "na"),
    ("lt", "Tuoj patikrinsiu.", "fail"),
    ("ru", "Проверьте, пожалуйста, почту.", "na"),
    ("ru", "Уточните информацию у курьера.", "na"),
    ("ru", "Сейчас уточню.", "fail"),
]


@pytest.mark.parametrize(("lang", "line", "expected"), HOLD_TOPIC)
def test_a_hold_is_the_agents_own_move(rubric, lang, line, expected):
    r = result_of(rubric, three_turns(lang, line), "hold_etiquette")
    assert r.result == expected, (line, r.reason, [e.match for e in r.evidence])


# audit-checklist@7: the agent's own "we/I can't", not the customer's problem restated
# ("you can't log in?"), which shares its lemma
RESTATED = [
    ("cs", "Nemůžete se přihlásit do aplikace?", "na"),
    ("cs", "Takže nemáte žádný přístup k účtu?", "na"),
    ("cs", "Nenajdete ji v aplikaci?", "na"),
    ("cs", "Bohužel nemám žádnou volnou kapacitu.", "fail"),
    ("sl", "Ne morete se prijaviti?", "na"),
    ("sl", "Tega žal ne moremo narediti.", "fail"),
    ("lt", "Negalite prisijungti?", "na"),
    ("lt", "Deja, negalime to padaryti.", "fail"),
    ("ru", "Вы не можете войти в приложение?", "na"),
    ("ru", "К сожалению, мы не можем это сделать.", "fail"),
    # audit-checklist@8: "I offer / recommend / suggest" as the agent's own words, not the
    # imperative that shares their lemma ("recommend us to your friends"); "bohužel nejde" refuses
    ("cs", "To bohužel nejde. Doporučujte nás prosím dál.", "fail"),
    ("cs", "To bohužel nejde, doporučuji ale objednat přes aplikaci.", "pass"),
    ("cs", "Bohužel to nejde, nabízíme ale výměnu kusu.", "pass"),
    ("sl", "To žal ni mogoče. Priporočajte nas prijateljem.", "fail"),
    ("sl", "To žal ni mogoče, predlagam pa zamenjavo.", "pass"),
    ("lt", "Deja, tai neįmanoma. Rekomenduokite mus draugams.", "fail"),
    ("lt", "Deja, tai neįmanoma, bet rekomenduoju kitą modelį.", "pass"),
    ("ru", "К сожалению, это невозможно. Рекомендуйте нас друзьям.", "fail"),
    ("ru", "К сожалению, это невозможно, но рекомендуем другую модель.", "pass"),
    ("ru", "Это невозможно. Советуйте нас знакомым.", "fail"),
]


@pytest.mark.parametrize(
    "line",
    [
        # "něco", "něčím", "nějak" typed without accents start with "ne": no negation
        "mohu jeste s necim pomoci",
        "potrebujete jeste neco",
        "muzu vam jeste nejak pomoci",
    ],
)
def test_words_starting_ne_typed_without_accents_are_no_negation(rubric, line):
    item = three_turns("cs", line)
    assert result_of(rubric, item, "closing_question").result == "pass"


@pytest.mark.parametrize(("lang", "line", "expected"), RESTATED)
def test_refusals_and_alternatives_are_the_agents_own_words(rubric, lang, line, expected):
    r = result_of(rubric, three_turns(lang, line), "alternatives")
    assert r.result == expected, (line, r.reason, [e.match for e in r.evidence])
