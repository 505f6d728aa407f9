"""Scoring benchmark: rules-only scoring against bare spaCy tokenisation of the same text.

Run: ``make bench`` or ``.venv/bin/python benchmarks/bench_scoring.py [--n 2000] [--model PATH]``.
The hybrid rows use ``--model`` (default: the shipped ``models/turns.skops``). With an
embedding model every timed run starts from an empty embedding cache, so "distinct turn
texts" means sentences never embedded before (the worst case; a real night repeats many
agent lines and reuses earlier nights' vectors).
Synthetic chats of about 20 turns in the five rubric languages (fixed seed). Both
measurements run in this process on the same texts, so the ratio holds across
machines better than either number alone. Results go to ``scoring_results.md``.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import resource
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import spacy
from results_table import add_rows  # benchmarks/ is the script's folder

from qa_pipeline.classifier import load_classifier
from qa_pipeline.embeddings import SentenceEmbedder
from qa_pipeline.hybrid import uses_classifier
from qa_pipeline.interactions import Interaction, Turn
from qa_pipeline.rubric import Rubric, load_rubric
from qa_pipeline.rules import RuleEngine
from qa_pipeline.scoring import score_interactions

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).with_name("scoring_results.md")

AGENT = {
    "en": [
        "Hi, thanks for contacting Acme, this is Sarah.",
        "I'm so sorry to hear that.",
        "Let me check your account for a moment.",
        "I have issued a refund to your card today.",
        "Calm down, you have to wait.",
        "Of course, happy to help!",
        "Is there anything else I can help with?",
        "Thank you for your patience, have a great day.",
    ],
    "cs": [
        "Dobrý den, u telefonu Petra.",
        "Omlouváme se za komplikace.",
        "Podívám se na váš účet.",
        "Fakturu jsem vám poslala znovu.",
        "Musíte počkat.",
        "Samozřejmě, rád vám pomohu.",
        "Můžu vám ještě s něčím pomoci?",
        "Děkujeme a hezký den.",
    ],
    "sl": [
        "Dober dan, moje ime je Maja.",
        "Oprostite za nevšečnosti.",
        "Preverila bom vaš račun.",
        "Račun sem popravila, zdaj deluje.",
        "Pomirite se.",
        "Z veseljem vam pomagam.",
        "Vam lahko še kako pomagam?",
        "Hvala za potrpežljivost.",
    ],
    "lt": [
        "Laba diena, mano vardas Rūta.",
        "Atsiprašome dėl nepatogumų.",
        "Patikrinsiu jūsų paskyrą.",
        "Išsiunčiau jums naują nuorodą.",
        "Nusiraminkite.",
        "Žinoma, mielai padėsiu.",
        "Ar galiu dar kuo nors padėti?",
        "Labai ačiū!",
    ],
    "ru": [
        "Здравствуйте, меня зовут Иван.",
        "Приносим извинения за неудобства.",
        "Сейчас проверю ваш счёт.",
        "Я оформил возврат средств.",
        "Успокойтесь.",
        "Конечно, я помогу.",
        "Могу ли я ещё чем-то помочь?",
        "Спасибо за ожидание!",
    ],
}
CUSTOMER = {
    "en": [
        "My order never arrived and I need it for Friday.",
        "It's the account ending in 42.",
        "ok",
        "thanks",
    ],
    "cs": ["Nepřišla mi faktura za říjen.", "Číslo smlouvy je 4432.", "dobře", "díky"],
    "sl": ["Račun za november je napačen.", "Številka pogodbe je 4432.", "v redu", "hvala"],
    "lt": ["Negaliu prisijungti prie paskyros.", "Sutarties numeris 4432.", "gerai", "ačiū"],
    "ru": ["Мне дважды списали деньги.", "Номер договора 4432.", "хорошо", "спасибо"],
}


def make_interactions(n: int, turns: int = 20, seed: int = 7) -> list[Interaction]:
    """``n`` synthetic chats of ``turns`` turns; every other one leaves its language to detection."""
    rng = random.Random(seed)
    langs = sorted(AGENT)
    items = []
    for i in range(n):
        lang = langs[i % len(langs)]
        chat = [
            Turn(
                speaker="agent" if t % 2 == 0 else "customer",
                text=rng.choice(AGENT[lang] if t % 2 == 0 else CUSTOMER[lang]),
            )
            for t in range(turns)
        ]
        items.append(
            Interaction(
                id=f"chat:bench:{i}",
                channel="chat",
                agent_id=f"a{i % 40}",
                language=lang if i % 2 else None,
                turns=chat,
            )
        )
    return items


def turns_by_language(items: list[Interaction]) -> dict[str, list[str]]:
    """Every turn's text, grouped by the language it was written in."""
    by_lang: dict[str, list[str]] = {}
    for i, item in enumerate(items):
        by_lang.setdefault(sorted(AGENT)[i % len(AGENT)], []).extend(t.text for t in item.turns)
    return by_lang


def tokeniser(items: list[Interaction]):
    """Bare ``spacy.blank(lang)`` tokenisation of every turn, with pipelines built (and warmed) once,
    just as scoring reuses its compiled pipelines."""
    by_lang = turns_by_language(items)
    pipelines = {lang: spacy.blank(lang) for lang in by_lang}

    def run() -> None:
        for lang, texts in by_lang.items():
            for _ in pipelines[lang].pipe(texts, batch_size=256):
                pass

    run()
    return run


def timed(work) -> float:
    """Best of three wall-clock seconds of ``work()``, with the garbage collector paused (as timeit does)."""
    best = float("inf")
    for _ in range(3):
        gc.collect()
        gc.disable()
        try:
            started = time.perf_counter()
            work()
            best = min(best, time.perf_counter() - started)
        finally:
            gc.enable()
    return best


def unique_texts(items: list[Interaction]) -> list[Interaction]:
    """The same chats with every turn made distinct: the classifier's worst case, as it
    featurises each distinct sentence once. The case number goes inside the sentence ("Let me
    check your account (case 12-3)."): the classifier reads sentence by sentence, so a number
    appended as a sentence of its own would leave the original sentence a repeat."""
    return [
        i.model_copy(
            update={
                "turns": [
                    t.model_copy(update={"text": _numbered(t.text, n, k)}) for k, t in enumerate(i.turns)
                ]
            }
        )
        for n, i in enumerate(items)
    ]


def _numbered(text: str, n: int, k: int) -> str:
    body = text.rstrip(".!?")
    return f"{body} (case {n}-{k}){text[len(body) :]}"


MODEL = ROOT / "models" / "turns.skops"


def variants(items: list[Interaction], model_path: Path) -> dict[str, tuple[list[Interaction], Rubric]]:
    """The measured set-ups: rules only (three that show where the time goes), then hybrid
    scoring against rules only on the same chats, with repeated and with distinct turn texts."""
    shipped = load_rubric(ROOT / "rubrics" / "default.yaml")
    rubric = shipped.with_method("rule")
    given = [i.model_copy(update={"language": sorted(AGENT)[n % len(AGENT)]}) for n, i in enumerate(items)]
    no_patterns = rubric.model_copy(
        update={"criteria": [c.model_copy(update={"patterns": {}}) for c in rubric.criteria]}
    )
    distinct = unique_texts(items)
    clf = load_classifier(model_path)
    model = f"{clf.name}, {clf.feature_set}"
    return {
        "default rubric; half the interactions need language detection": (items, rubric),
        "every interaction carries its language": (given, rubric),
        "same, without the default rubric's English token patterns": (given, no_patterns),
        f"hybrid: default rubric v{shipped.version} with {model}; half detect": (
            items,
            shipped,
        ),
        "rules only, every turn text distinct; half detect": (distinct, rubric),
        f"hybrid (v{shipped.version} + {model}), every turn text distinct; half detect": (
            distinct,
            shipped,
        ),
    }


# Each hybrid row is compared with the rules-only row on the same chats.
COMPARED = {3: 0, 5: 4}


def measure(name: str, items: list[Interaction], rubric: Rubric, model_path: Path) -> tuple[str, float]:
    """One results-table row for ``items`` scored with ``rubric``, and the scoring seconds."""
    started = time.perf_counter()
    engine = RuleEngine(rubric)
    for lang in rubric.languages:
        engine.rules_for(lang)
    classifier = load_classifier(model_path) if uses_classifier(rubric) else None
    compile_s = time.perf_counter() - started
    score_interactions(items[:50], rubric, engine, classifier)  # warm caches (lemmas, language identifier)
    tok_s = timed(tokeniser(items))

    def score() -> None:
        if classifier is not None and "e5" in classifier.feature_set:
            # never-seen sentences: an empty embedding cache for every timed run
            classifier.embedder = SentenceEmbedder(cache=Path(tempfile.mkdtemp()) / "vectors.sqlite")
        score_interactions(items, rubric, engine, classifier)

    rules_s = timed(score)
    tracemalloc.start()
    score_interactions(items, rubric, engine)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    n = len(items)
    print(
        f"{name}: tokenise-only {n / tok_s:,.0f}/s, rules-only {n / rules_s:,.0f}/s, "
        f"ratio {tok_s / rules_s:.2f} (aim >= 0.5), compile {compile_s:.2f} s, "
        f"peak traced {peak / 2**20:.0f} MB"
    )
    machine = f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores"
    return (
        f"| {datetime.now(UTC):%Y-%m-%d} | {machine} | {name} | {n} x 20 turns | {n / tok_s:,.0f} "
        f"| {n / rules_s:,.0f} | {tok_s / rules_s:.2f} | {compile_s:.2f} s | {peak / 2**20:.0f} MB "
        f"| {rss:.0f} MB |"
    ), rules_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="interactions (default 2000)")
    parser.add_argument("--no-record", action="store_true", help="print only; do not update the results file")
    parser.add_argument("--model", type=Path, default=MODEL, help="classifier for the hybrid rows")
    args = parser.parse_args()
    items = make_interactions(args.n)
    setups = variants(items, args.model)
    measured = [measure(name, batch, rubric, args.model) for name, (batch, rubric) in setups.items()]
    rows = [row for row, _ in measured]
    names = list(setups)
    for hybrid, rules in COMPARED.items():
        extra = measured[hybrid][1] / measured[rules][1] - 1
        print(f"{names[hybrid]}: the classifier adds {extra:.0%} to rules-only scoring time")
        rows[hybrid] = rows[hybrid].replace(
            names[hybrid], f"{names[hybrid]}: {extra:+.0%} time against rules only"
        )
    if not args.no_record:
        record(rows)


HEADER = """# Scoring benchmark results

`benchmarks/bench_scoring.py` (`make bench`): rules-only scoring (language detection,
tokenising with lemmas, PhraseMatcher and token Matcher, negation and context checks,
windows, N/A rules, Score objects) against bare `spacy.blank(lang).pipe` tokenisation of
the same turns, in the same process. Ratio = rules-only speed / tokenisation speed
(aim: at least 0.5). Each time is the best of three with the garbage collector paused.
Peak traced = Python allocations during one scoring pass (tracemalloc); max RSS = the
whole process (spaCy, five pipelines, the language identifier).

| date | machine | variant | data | tokenise-only interactions/s | rules-only interactions/s | ratio | compile (5 languages) | peak traced | max RSS |
|---|---|---|---|---|---|---|---|---|---|
"""


def record(rows: list[str]) -> None:
    """Add result rows to the table in the results file (created with its header if missing)."""
    add_rows(RESULTS, HEADER, rows)


if __name__ == "__main__":
    main()
