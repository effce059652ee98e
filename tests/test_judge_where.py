"""Where a story happens, the story's own lead, and the shipped rules' spellings (issue 15,
second round). Every sentence here is invented."""

from __future__ import annotations

import re
import tomllib
from array import array
from dataclasses import replace
from pathlib import Path

from monitor.configuration.sources import load_topics
from monitor.matching import judge, topics
from monitor.matching.lead import menu_last
from monitor.matching.rules import Document
from monitor.matching.topics import TopicsConfig
from monitor.polling.analysis import analyse
from tests.conftest import rules_only_topics

REPO = Path(__file__).resolve().parent.parent
TOPICS = """
[aliases]
people = ["diplomat*", "envoy*"]
leaving = ["defect*", "asylum"]
iran_places = ["Tehran", "Shiraz", "تهران"]
world_places = ["Paris", "Lebanon", "پاریس"]

[[topic]]
name = "defections"
rule = "@people AND @leaving"
gate = "@people OR @leaving"
threshold = 1
"""


def config_of(tmp_path: Path) -> TopicsConfig:
    return rules_only_topics(tmp_path, TOPICS)


def where_of(cfg: TopicsConfig, title: str, text: str) -> set[str]:
    return {z for z in judge.group_zones(Document.of(title, text), cfg.groups)
            if z.startswith(("where ", "dateline "))}


def test_where_a_story_happens_leaves_a_dateline_out(tmp_path: Path) -> None:
    cfg = config_of(tmp_path)
    assert where_of(cfg, "Crowds in Paris", "TEHRAN - Thousands marched in Paris today.") == {
        "where abroad", "dateline only"}
    assert where_of(cfg, "Crowds in Shiraz", "Thousands marched on Friday.") == {"where iran"}
    assert where_of(cfg, "", "TEHRAN - Crowds in Shiraz and in Lebanon.") == {"where both"}
    filler = " ".join(["word"] * judge.LEAD)
    assert where_of(cfg, "Crowds", f"Thousands marched. {filler} Tehran.") == {"where unsaid"}
    # the places' zones themselves: a dateline is its own zone
    zones = judge.group_zones(Document.of("", "تهران - خبر"), cfg.groups)
    assert "@iran_places head" in zones and "@iran_places lead" not in zones


def test_where_features_read_plainly() -> None:
    assert judge.describe("r where abroad") == "set abroad"
    assert judge.describe("r dateline only") == "Iran only in the dateline"
    assert judge.describe("r @iran_places head") == "iran places in the first words"


def test_a_menu_block_moves_out_of_the_lead() -> None:
    menu = "Home\n\nNews\nSport\n1. Skip to content\n"
    story = "An envoy asked for asylum on Monday, officials said.\nMore follows."
    moved = menu_last(f"📰\n{menu}{story}")
    assert moved.startswith("An envoy asked for asylum") and moved.endswith("Skip to content")
    plain = f"A short headline\n{story}"
    assert menu_last(plain) is plain  # one short line is a headline, not a menu
    only = "Home\nNews\nSport"
    assert menu_last(only) is only  # nothing after it: kept as it is


def test_the_analysis_reads_the_story_lead_after_a_menu(tmp_path: Path) -> None:
    cfg = config_of(tmp_path)
    table = array("f", bytes(4 * judge.SIZE))
    table[judge.feature_id("l asylum")] = 6.0  # evidence only when in the lead
    model = replace(cfg, models=(("defections", judge.Weights(-3.0, table, rules=False)),))
    menu = "".join(f"Section {i} here\n" for i in range(20))  # 60 words of navigation
    text = f"{menu}An envoy asked for asylum on Monday, officials said."
    hits = analyse(model, "Envoy", text, "en", "en").topics
    assert [h.state for h in hits] == ["match"]
    assert hits[0].probability is not None and hits[0].probability > 0.9


def test_shipped_spellings_have_no_lone_star_inside_a_phrase() -> None:
    """A '*' standing alone as a word of a spelling matches nothing (it is not a wildcard
    word): such spellings silently never fired."""
    data = tomllib.loads((REPO / "config" / "topics.toml").read_text("utf-8"))
    lone = [s for spellings in data["aliases"].values() for s in spellings
            if re.search(r"(^|\s)\*(\s|$)", s)]
    assert lone == []


def shipped() -> TopicsConfig:
    problems: list[str] = []
    cfg = load_topics(REPO / "config" / "topics.toml", problems)
    assert problems == []
    return replace(cfg, models=())  # the rules alone


def rule_topics(title: str, text: str, language: str = "en") -> list[str]:
    return [h.topic for h in topics.classify(shipped(), title, text, language)]


def test_shipped_rules_on_forms_they_used_to_miss() -> None:
    assert rule_topics("Iranian consul renouncing his post in a letter",
                       "The consul of the Islamic Republic said he was renouncing it.") == [
        "defections"]
    assert rule_topics("Iranian diplomat asks to stay",
                       "The Iranian diplomat asked the host to allow him to remain there.") == [
        "defections"]
    # emigration (مهاجرت) of a national athlete is not the migrants exclusion
    assert rule_topics("ملی‌پوش کشتی پس از مهاجرت پناهنده شد",
                       "این کشتی‌گیر تیم ملی پس از مهاجرت به آلمان پناهنده شد.", "fa") == [
        "defections"]
    # a protest in another of the world's places, an Iranian outlet reporting it
    assert rule_topics("Protesters fill the streets of Santiago",
                       "Iranian media said protesters marched in Santiago.") == []
    assert rule_topics("Protesters fill the streets of Shiraz",
                       "Iranian media said protesters marched in Shiraz.") == ["protests"]
    # a rally the state organises is not a protest
    assert rule_topics("Tehran rallies on Quds Day",
                       "Crowds in Tehran held rallies and chanted slogans on Quds Day.") == []


def test_a_rule_exclusion_keeps_a_model_acceptance_possible(tmp_path: Path) -> None:
    path = tmp_path / "topics.toml"
    path.write_text(TOPICS.replace('rule = "@people AND @leaving"',
                                   'rule = "@people AND @leaving AND NOT @world_places"'), "utf-8")
    problems: list[str] = []
    cfg = load_topics(path, problems)
    assert problems == []
    table = array("f", bytes(4 * judge.SIZE))
    table[judge.feature_id("t asylum")] = 8.0  # the model is sure from the title alone
    model = replace(cfg, models=(("defections", judge.Weights(-1.0, table, rules=True)),))
    (hit,) = topics.classify(model, "Envoy asylum", "In Paris.", "en", possible=True)
    assert hit.state == "possible"  # the exclusion (a place abroad) has the last word
    (hit,) = topics.classify(model, "Asylum", "In Shiraz.", "en", possible=True)
    assert hit.state == "match"  # no rule hit, no exclusion: the model alone accepts


def test_the_other_topics_rule_hits_are_features() -> None:
    cfg = shipped()
    d = Document.of("Iranian diplomat defects", "The Iranian diplomat sought asylum in Oslo.")
    shared: dict[str, object] = {"rules": {t.name: topics.rule_result(t, d) for t in cfg.topics}}
    rules = shared["rules"]
    assert isinstance(rules, dict)
    protests = judge.features(d, rules["protests"], cfg.groups, "en", shared, "protests")
    assert "r also defections" in protests.values()
    defections = judge.features(d, rules["defections"], cfg.groups, "en", shared, "defections")
    assert "r also defections" not in defections.values()
    assert judge.describe("r also defections") == "the defections rule also matched"
