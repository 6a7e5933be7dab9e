#!/usr/bin/env python3
"""Right answer in the right language: the independent questions asked through `POST /api/chat`.

Starts the real stack (Rasa server, action server, hub on a fresh SQLite), asks every question of
`tests/data/nlu_independent/<lang>.yml` as the first message of a new conversation, and decides
from the replies which answer the customer got: a catalogue answer (`utter_<topic>`), the start of
a guided conversation (self-assessment, service needs, callback), a hand-off, a clarifying question
or a fallback. A question counts as right when the customer got the answer of its topic in its own
language. Prints a Markdown table per language, per topic and the confusions.

    .venv/bin/python scripts/eval_chat.py [--json FILE] [--only LANG]

`make eval` runs it. The questions were written by a separate author who saw only the topic list
and the facts, never `data/` (docs/quality.md).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import Settings  # noqa: E402
from bot.locales import catalogues, render  # noqa: E402

QUESTIONS = ROOT / "tests" / "data" / "nlu_independent"
GUIDED_OPENINGS = {"language_assessment": "assess_intro", "service_needs": "needs_intro"}


def load_questions(folder: Path = QUESTIONS) -> list[tuple[str, str, str]]:
    """(language, text, topic) for every question."""
    out = []
    for path in sorted(folder.glob("*.yml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for q in doc["questions"]:
            out.append((doc["language"], str(q["text"]), str(q["topic"])))
    return out


@dataclass
class Outcomes:
    """What each reply text means, per language: the topic answered, or what else happened."""

    texts: dict[str, dict[str, str]] = field(default_factory=dict)
    openings: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def build(cls) -> Outcomes:
        outcomes = cls()
        guidance_dir = ROOT / "bot" / "locales" / "guidance"
        for lang, cat in catalogues().items():
            index: dict[str, str] = {}
            for key in cat.responses:
                text = render(key, lang).text
                if key.startswith("utter_"):
                    index.setdefault(text, key.removeprefix("utter_"))
                elif key == "sys_callback_ask_number":
                    index.setdefault(text, "request_callback")
                elif key == "sys_clarify":
                    index.setdefault(text, "(clarify)")
                elif key.startswith("sys_handoff"):
                    index.setdefault(text, "(hand-off)")
            outcomes.texts[lang] = index
            guide = yaml.safe_load((guidance_dir / f"{lang}.yml").read_text(encoding="utf-8"))
            outcomes.openings[lang] = {guide["texts"][key]: topic for topic, key in GUIDED_OPENINGS.items()}
        return outcomes

    def of(self, payload: dict[str, Any], language: str) -> tuple[str, list[str]]:
        """(what the customer got, the topics offered by a clarifying question)."""
        replies = payload.get("replies") or []
        lang = payload.get("language") or language
        offered = [str(b.get("payload", "")).lstrip("/") for r in replies for b in r.get("buttons") or []]
        index = self.texts.get(lang, {})
        openings = self.openings.get(lang, {})
        got: list[str] = []
        for reply in replies:
            text = reply.get("text") or ""
            if text in index:
                got.append(index[text])
                continue
            for opening, topic in openings.items():
                if text.startswith(opening):
                    got.append(topic)
        if payload.get("ticket"):
            return "request_human", []
        answers = [g for g in got if g not in ("ai_disclosure",)]
        for g in answers:
            if not g.startswith("("):
                return g, []
        if "(clarify)" in answers:
            return "(clarify)", offered
        if answers:
            return answers[0], []
        return "(fallback)", []


def ask_all(hub_url: str, questions: list[tuple[str, str, str]], outcomes: Outcomes) -> list[dict[str, Any]]:
    rows = []
    with httpx.Client(timeout=60) as client:
        for language, text, topic in questions:
            body = {"conversation_id": uuid.uuid4().hex, "text": text}
            r = client.post(f"{hub_url}/api/chat", json=body)
            r.raise_for_status()
            payload = r.json()
            got, offered = outcomes.of(payload, language)
            rows.append({"language": language, "text": text, "topic": topic, "got": got, "offered": offered,
                         "answered_in": payload.get("language")})
    return rows


def _topic_names() -> set[str]:
    return {k.removeprefix("utter_") for k in catalogues()["en"].responses if k.startswith("utter_")}


def macro_f1(gold: list[str], pred: list[str]) -> float:
    """Intent macro-F1 over the topics the questions have (as scikit-learn's f1_score, average="macro")."""
    scores = []
    for label in sorted(set(gold)):
        tp = sum(g == label and p == label for g, p in zip(gold, pred, strict=True))
        fp = sum(g != label and p == label for g, p in zip(gold, pred, strict=True))
        fn = sum(g == label and p != label for g, p in zip(gold, pred, strict=True))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / len(scores) if scores else 0.0


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    per_lang: dict[str, dict[str, Any]] = {}
    by_lang: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_lang[row["language"]].append(row)
    for lang, items in sorted(by_lang.items()):
        n = len(items)
        right = [r for r in items if r["got"] == r["topic"] and r["answered_in"] == lang]
        gold = [r["topic"] for r in items]
        pred = [r["got"] for r in items]
        per_lang[lang] = {
            "questions": n,
            "right": len(right) / n,
            "right_language": sum(r["answered_in"] == lang for r in items) / n,
            "clarified": sum(r["got"] == "(clarify)" for r in items) / n,
            "clarified_with_right_option": sum(r["got"] == "(clarify)" and r["topic"] in r["offered"] for r in items) / n,
            "handed_off_unasked": sum(r["got"] == "request_human" and r["topic"] != "request_human" for r in items) / n,
            "macro_f1": macro_f1(gold, pred),
        }
    topics: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        topics[row["topic"]][1] += 1
        topics[row["topic"]][0] += row["got"] == row["topic"] and row["answered_in"] == row["language"]
    confusions = Counter((r["language"], r["topic"], r["got"]) for r in rows
                         if r["got"] != r["topic"] or r["answered_in"] != r["language"])
    total = len(rows)
    return {
        "languages": per_lang,
        "overall": sum(r["got"] == r["topic"] and r["answered_in"] == r["language"] for r in rows) / max(total, 1),
        "topics": {t: v[0] / v[1] for t, v in sorted(topics.items())},
        "confusions": [{"language": lang, "topic": t, "got": g, "n": n} for (lang, t, g), n in confusions.most_common()],
    }


def report(summary: dict[str, Any]) -> str:
    lines = ["| language | questions | right answer, right language | right language | asked back (right option offered) "
             "| unasked hand-off | macro-F1 |", "|---|---:|---:|---:|---:|---:|---:|"]
    for lang, r in summary["languages"].items():
        lines.append(f"| {lang} | {r['questions']} | **{r['right']:.1%}** | {r['right_language']:.1%} | "
                     f"{r['clarified']:.1%} ({r['clarified_with_right_option']:.1%}) | {r['handed_off_unasked']:.1%} "
                     f"| {r['macro_f1']:.3f} |")
    lines.append(f"\nOverall: **{summary['overall']:.1%}** right.")
    weak = [f"{t} {v:.0%}" for t, v in summary["topics"].items() if v < 0.95]
    lines.append("Topics under 95 %: " + (", ".join(weak) or "none"))
    lines.append("Confusions (language: topic → got ×n): " + "; ".join(
        f"{c['language']}: {c['topic']} → {c['got']} ×{c['n']}" for c in summary["confusions"][:25]))
    return "\n".join(lines)


def main() -> None:
    from bot.cli import Stack, ensure_model
    from scripts.bench import free_port

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", type=Path, help="write every question's outcome here")
    parser.add_argument("--only", help="one language")
    parser.add_argument("--errors", action="store_true", help="print every wrong answer")
    args = parser.parse_args()
    questions = [q for q in load_questions() if not args.only or q[0] == args.only]
    outcomes = Outcomes.build()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite:///{tmp}/eval.db", http_port=free_port(),
                            rasa_url=f"http://127.0.0.1:{free_port()}", actions_port=free_port(),
                            smtp_port=free_port(), max_turns=1000)
        stack = Stack(settings=settings, model=ensure_model(), log_dir=Path(tmp) / "logs")
        stack.start()
        try:
            stack.wait_ready(timeout=300)
            started = time.monotonic()
            rows = ask_all(stack.hub_url, questions, outcomes)
            elapsed = time.monotonic() - started
        finally:
            stack.stop()
    summary = summarise(rows)
    print(f"\n### Independent questions through POST /api/chat ({len(rows)} questions, {elapsed:.0f} s)\n")
    print(report(summary))
    if args.errors:
        for r in rows:
            if r["got"] != r["topic"] or r["answered_in"] != r["language"]:
                print(f"  {r['language']} [{r['topic']} → {r['got']} in {r['answered_in']}] {r['text']}")
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "rows": rows}, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
