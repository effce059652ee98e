"""How much of a story a topic's words take, and which places stand next to them
(monitor.matching.extent; issue 15, third round). Every sentence here is invented."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from monitor.configuration.sources import load_topics
from monitor.matching import extent, judge, topics
from monitor.matching.rules import Document
from monitor.matching.topics import TopicsConfig
from tests.conftest import rules_only_topics

REPO = Path(__file__).resolve().parent.parent
TOPICS = """
[aliases]
protest_words = ["protest*", "strike", "rally"]
iran_places = ["Tehran", "Shiraz", "شیراز"]
world_places = ["Paris", "Lebanon", "پاریس"]

[[topic]]
name = "protests"
rule = "@protest_words"
gate = "@protest_words"
threshold = 1
"""


def config_of(tmp_path: Path) -> TopicsConfig:
    return rules_only_topics(tmp_path, TOPICS)


def names_of(cfg: TopicsConfig, title: str, text: str) -> set[str]:
    return set(judge.group_zones(Document.of(title, text), cfg.groups))


def test_a_recurring_topic_is_counted_and_spread(tmp_path: Path) -> None:
    cfg = config_of(tmp_path)
    filler = " ".join(["word"] * extent.SPREAD)
    text = (f"Workers gathered early. A protest began. {filler} The protest grew. {filler} "
            "A third protest, a strike.")
    names = names_of(cfg, "Workers", text)
    assert {"@protest_words n2", "@protest_words n4", "@protest_words spread3"} <= names
    assert "@protest_words n8" not in names and "@protest_words spread5" not in names
    # one passing mention counts nothing
    once = names_of(cfg, "A plane crash", f"{filler} Last year's protest was recalled.")
    assert not any(n.startswith("@protest_words n") for n in once)


def test_the_places_next_to_the_protest_words(tmp_path: Path) -> None:
    cfg = config_of(tmp_path)
    abroad = names_of(cfg, "Crowds in Paris", "Thousands joined a protest in Paris on Friday.")
    assert "@protest_words near abroad text" in abroad
    assert "@protest_words near iran text" not in abroad
    home = names_of(cfg, "Shiraz protest", "On Sunday shopkeepers in Shiraz held a strike.")
    assert {"@protest_words near iran text", "@protest_words near iran title"} <= home
    # a dateline says where the reporter sits: it stands next to nothing
    dateline = names_of(cfg, "Crowds", "Tehran - Thousands joined a protest in Lebanon today.")
    assert "@protest_words near abroad text" in dateline
    assert "@protest_words near iran text" not in dateline
    many = names_of(cfg, "", "On Friday a protest in Paris, a rally in Paris, a strike in Paris.")
    assert f"@protest_words near abroad text {extent.MANY}" in many


def test_extent_features_read_plainly() -> None:
    assert judge.describe("r @protest_words n4") == "protest words 4 times or more in the text"
    assert judge.describe("r @protest_words spread3") == "protest words through 3 passages or more"
    assert judge.describe("r @protest_words near abroad text") == (
        "protest words next to another country in the text")
    assert judge.describe("r @leaving near iran title 3") == (
        "leaving next to an Iranian place in the title (3 times or more)")
    assert judge.describe("r @iran_places lead") == "iran places in the lead"  # unchanged


def test_the_model_reads_extent_features(tmp_path: Path) -> None:
    cfg = config_of(tmp_path)
    d = Document.of("Strike", "A strike in Shiraz. The strike spread, a second protest.")
    (topic,) = cfg.topics
    feats = judge.features(d, topics.rule_result(topic, d), cfg.groups, "en")
    assert "r @protest_words n2" in feats.values()
    assert "r @protest_words near iran text" in feats.values()


def test_shipped_rules_count_the_state_peoples_emigration_as_leaving() -> None:
    problems: list[str] = []
    cfg = replace(load_topics(REPO / "config" / "topics.toml", problems), models=())
    assert problems == []

    def rule_topics(title: str, text: str) -> list[str]:
        return [h.topic for h in topics.classify(cfg, title, text, "fa")]

    assert rule_topics("مجری سابق صداوسیما به کانادا مهاجرت کرد",
                       "این مجری تلویزیون که سال‌ها برنامه اجرا می‌کرد به کانادا مهاجرت کرده است.",
                       ) == ["defections"]
    assert rule_topics("کشتی‌گیر تیم ملی زیر پرچم کشوری دیگر",
                       "این کشتی‌گیر سابق تیم ملی از این پس زیر پرچم کشوری دیگر مسابقه می‌دهد.",
                       ) == ["defections"]
