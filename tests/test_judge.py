"""The second stage of topic judgement (monitor.matching.judge), the possible band, reasons in
plain words,
the gate's lead and language, and the evaluation command. Every sentence here is invented."""

from __future__ import annotations

import json
from array import array
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from benchmarks import topic_model
from benchmarks import topics as bench_topics
from monitor.alerts import rules as alert_rules
from monitor.alerts.rules import AlertRule, ChannelPolicy
from monitor.configuration.sources import load_topics
from monitor.matching import judge, reasons, topics
from monitor.matching.gate import Gate, lead
from monitor.matching.rules import Document
from monitor.matching.topics import TopicsConfig
from storage import Store
from storage.records import (
    ItemContent,
    NewItem,
    PollRecord,
    SourceRecord,
    TopicHit,
)
from tests.conftest import sql

REPO = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
TOPICS = """
[aliases]
people = ["diplomat*", "envoy*", "دیپلمات*"]
leaving = ["defect*", "asylum", "پناهندگی"]
places = ["Tehran", "تهران"]
{extra}
[[topic]]
name = "defections"
rule = "@people AND @leaving"
gate = "@people OR @leaving OR lang:fa"
threshold = 3
title_weight = 2
{keys}
"""


def config_of(tmp_path: Path, extra: str = "", keys: str = "") -> TopicsConfig:
    path = tmp_path / "topics.toml"
    path.write_text(TOPICS.format(extra=extra, keys=keys), "utf-8")
    problems: list[str] = []
    cfg = load_topics(path, problems)
    assert problems == []
    return replace(cfg, models=())  # the shipped weights know nothing of this topic


def weights_for(names: dict[str, float], bias: float = -2.0) -> judge.Weights:
    table = array("f", bytes(4 * judge.SIZE))
    for name, w in names.items():
        table[judge.feature_id(name)] = w
    return judge.Weights(bias, table, rules=False)


def doc(title: str, text: str, language: str = "en") -> Document:
    return Document.of(title, text, language)


# -- features ------------------------------------------------------------------------------------


def test_words_are_features_by_zone_title_lead_and_deep() -> None:
    filler = " ".join(f"word{i}" for i in range(judge.LEAD))
    d = doc("Envoy in Oslo", f"quietly left {filler} asylum")
    names = set(judge.text_features(d).values())
    assert {"t envoy", "l quietly", "d asylum"} <= names
    assert "l asylum" not in names and "t asylum" not in names
    assert "b envoy in" in names  # word pairs of the title
    # the 4-grams of a word count as evidence of that word
    grams = [h for h, key in judge.text_features(d).items() if key == "t envoy"]
    assert len(grams) > 1


def test_alias_groups_are_located_and_rule_clauses_named(tmp_path: Path) -> None:
    cfg = config_of(tmp_path)
    (topic,) = cfg.topics
    d = doc("Diplomat defects", "He flew from Tehran last week.")
    zones = judge.group_zones(d, cfg.groups)
    assert "@people title" in zones and "@places lead" in zones
    assert [name for name, _ in topic.clauses] == ["people", "leaving"]
    result = topics.rule_result(topic, d)
    assert result.matched and result.clauses == (("people", True), ("leaving", True))
    feats = judge.features(d, result, cfg.groups, "en")
    assert "r rule matched" in feats.values() and "r clause people holds" in feats.values()


def test_weights_file_round_trip_and_the_shipped_file() -> None:
    w = weights_for({"t envoy": 1.5, "l asylum": -0.5}, bias=0.25)
    back = judge.parse_weights(judge.dump({"defections": w}))["defections"]
    assert back.bias == 0.25 and back.table[judge.feature_id("t envoy")] == 1.5
    with pytest.raises(ValueError):
        judge.parse_weights(b"nope")
    shipped = judge.load_weights()
    assert set(shipped) == {"defections", "protests"}
    assert judge.WEIGHTS_FILE.stat().st_size <= 5 * 1024 * 1024
    assert judge.load_weights(Path("/nonexistent/weights.bin")) == {}


# -- decisions and the possible band -----------------------------------------------------------


def test_model_decides_with_accept_and_possible_and_explains(tmp_path: Path) -> None:
    cfg = config_of(tmp_path, keys="accept = 0.8\npossible = 0.4")
    w = weights_for({"t asylum": 2.5, "t envoy": 1.0, "t seeks": 0.0})
    model = replace(cfg, models=(("defections", w),))
    sure = topics.classify(model, "Envoy seeks asylum", "He wrote a letter.", "en")
    assert [h.state for h in sure] == ["match"] and sure[0].probability is not None
    assert sure[0].probability > 0.8
    assert "'asylum' in the title" in sure[0].reason and "score 0." in sure[0].reason
    assert sure[0].evidence[0] == "'asylum' in the title"
    # a weaker item is kept as possible, but only when asked (the analysis asks)
    title = "Asylum"
    assert topics.classify(model, title, "A letter.", "en") == []
    (maybe,) = topics.classify(model, title, "A letter.", "en", possible=True)
    assert maybe.state == "possible" and maybe.reason.startswith("defections (possible):")
    # model = false: the rule alone decides, whatever the weights
    off = replace(model, topics=tuple(replace(t, model=False) for t in model.topics))
    assert topics.classify(off, title, "A letter.", "en", possible=True) == []  # no rule match
    (ruled,) = topics.classify(off, "Envoy seeks asylum", "", "en")
    assert ruled.probability is None and ruled.reason.endswith("rule score 4")


def test_an_item_that_fails_the_where_clause_is_at_most_possible(tmp_path: Path) -> None:
    """The clause of `context` aliases alone (is the story about Iran at all) binds the model
    as the rule's exclusions do: the text's words cannot make a story set elsewhere a match."""
    keys = 'rule = "@places AND @people AND @leaving"\ncontext = ["places"]'
    path = tmp_path / "topics.toml"
    path.write_text(TOPICS.format(extra="", keys="").replace(
        'rule = "@people AND @leaving"', keys), "utf-8")
    problems: list[str] = []
    cfg = load_topics(path, problems)
    assert problems == [] and cfg.topics[0].where_clauses == frozenset({0})
    w = replace(weights_for({"t asylum": 6.0, "t envoy": 3.0}), rules=True)
    model = replace(cfg, models=(("defections", w),))
    (elsewhere,) = topics.classify(model, "Envoy seeks asylum", "In a letter.", "en",
                                   possible=True)
    assert elsewhere.state == "possible"
    (home,) = topics.classify(model, "Envoy seeks asylum", "He left Tehran.", "en")
    assert home.state == "match"


def test_rule_only_topics_have_a_possible_band_one_below_the_threshold(tmp_path: Path) -> None:
    cfg = config_of(tmp_path)
    # one spelling of each group in the text: score 2, threshold 3
    (hit,) = topics.classify(cfg, "A quiet week", "The envoy asked for asylum.", "en",
                             possible=True)
    assert hit.state == "possible" and hit.score == 2
    assert topics.classify(cfg, "A quiet week", "The envoy asked for asylum.", "en") == []
    (sure,) = topics.classify(cfg, "Envoy seeks asylum", "The envoy asked for asylum.", "en")
    assert sure.state == "match" and "asylum (title)" in sure.reason


def test_bad_judgement_keys_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "topics.toml"
    path.write_text(TOPICS.format(extra="", keys="accept = 1.5\npossible = 0.9\nmodel = 'yes'"),
                    "utf-8")
    problems: list[str] = []
    load_topics(path, problems)
    text = "\n".join(problems)
    assert "accept: expected a probability between 0 and 1" in text
    assert "model: expected true or false" in text


def test_an_edited_rule_takes_effect_without_retraining(tmp_path: Path) -> None:
    """The rule's verdict is a feature of the model: a rule edited by hand changes the
    features (and with model = false the decision) at once, no weights touched."""
    before = config_of(tmp_path)
    item = ("Envoy relocates", "The envoy relocated to Oslo with his family.")
    assert topics.classify(before, *item, "en", possible=True) == []
    edited = TOPICS.format(extra="", keys="").replace('"asylum"', '"asylum", "relocat*"')
    (tmp_path / "topics.toml").write_text(edited, "utf-8")
    after = replace(load_topics(tmp_path / "topics.toml", []), models=())
    (hit,) = topics.classify(after, *item, "en")
    assert hit.state == "match" and "@leaving:relocat*" in hit.matched
    d = doc(*item)
    (topic,) = after.topics
    feats = judge.features(d, topics.rule_result(topic, d), after.groups, "en")
    assert "r rule matched" in feats.values()


def test_shipped_topics_on_the_written_sets_hold_their_measured_floor() -> None:
    """Both stages on the written test and hold-out sets. Measured (round 4, issue 15: extent
    features): defections P 0.988 R 0.944 (English 1.000/0.911, Persian 0.978/0.978), protests
    P 0.976 R 0.943 (English 0.976/0.932, Persian 0.977/0.955); round 3 (step and class
    weighting chosen by inner cross-validation): protests P 0.976 R 0.920 (English
    1.000/0.909, Persian 0.953/0.932), defections English 1.000/0.933, Persian 0.978/0.978;
    round 2: defections P 0.945 R 0.956, protests P 0.954 R 0.943. Protests recall fell by one
    written item per language for fewer false alerts on real news (benchmarks/results/topics.json).
    This guards the measured floor."""
    cfg = load_topics(REPO / "config" / "topics.toml", [])
    items = [it for name in ("topics_test.json", "topics_holdout.json")
             for it in topic_model.load_own(REPO / "tests" / "data" / name)]
    for topic in cfg.names():
        tp = fp = fn = 0
        for it in items:
            got = {h.topic for h in topics.classify(cfg, it.title, it.text, it.language)}
            tp += topic in got and topic in it.labels
            fp += topic in got and topic not in it.labels
            fn += topic not in got and topic in it.labels
        assert tp / (tp + fp) >= 0.93 and tp / (tp + fn) >= 0.92, (topic, tp, fp, fn)


# -- reasons, storage, alerts --------------------------------------------------------------------


def test_render_reads_plainly() -> None:
    hit = TopicHit("defections", 6.0, ("@leaving:asylum", "@people:diplomat*"), "match", 0.93,
                   ("'asylum' in the title",))
    assert reasons.render(hit) == ("defections: 'asylum' in the title, rule: @leaving:asylum, "
                                   "@people:diplomat*; score 0.93")
    assert reasons.reason(replace(hit, reason="stored")) == "stored"
    assert reasons.render(TopicHit("protests", 2.0, ()), 3) == "protests: rule score 2 of 3"
    d = doc("Diplomat defects", "asylum")
    assert reasons.in_title(d, ("@people:diplomat*", "@leaving:asylum")) == (
        "diplomat* (title)", "asylum")


def test_item_topics_keep_state_probability_evidence_and_reason(store: Store) -> None:
    store.sync_sources([SourceRecord("a", "A", "feed", "http://a.example/", "en", "A", "topic",
                                     900.0)], NOW)
    hits = (TopicHit("defections", 6.0, ("asylum",), "match", 0.91, ("'asylum' in the title",),
                     "defections: 'asylum' in the title; score 0.91"),
            TopicHit("protests", 1.0, (), "possible", 0.3, (), "protests (possible): score 0.30"))
    c = ItemContent(title="Envoy asks for asylum", text="x", author=None, published_at=NOW,
                    language="en", status="ok")
    url = "https://a.example/1"
    store.record_poll(PollRecord("a", NOW, "new", NOW, new_items=(
        NewItem("k", None, url, url, "A", None, None, None, c, topics=hits),)))
    rows = sql(store, "SELECT topic, state, probability, evidence, reason FROM item_topics "
                       "ORDER BY topic")
    assert [tuple(r) for r in rows] == [
        ("defections", "match", 0.91, '["\'asylum\' in the title"]',
         "defections: 'asylum' in the title; score 0.91"),
        ("protests", "possible", 0.3, "[]", "protests (possible): score 0.30")]
    lines = reasons.why_lines([asdict(i) for i in store.story(1).sightings])
    assert lines[0].endswith("defections: 'asylum' in the title; score 0.91")
    assert "protests (possible)" in lines[1]


def test_possible_hits_never_alert_immediately_and_go_to_opted_in_digests() -> None:
    policies = {"slack": ChannelPolicy("slack", True, "immediate", 3600.0, 10, 600.0),
                "digest": ChannelPolicy("digest", True, "digest", 3600.0, 10, 600.0)}
    possible = (TopicHit("defections", 2.0, (), "possible", 0.4),)

    def ask(rule: AlertRule) -> list[str]:
        got = alert_rules.requests((rule,), policies, possible, "en", "s", NOW, NOW, 86400,
                                   False)
        return [r.channel for r in got]

    rule = AlertRule("r", ("defections",), 0.0, (), (), ("slack", "digest"))
    assert ask(rule) == []
    assert ask(replace(rule, possible=True)) == ["digest"]
    sure = (replace(possible[0], state="match"),)
    got = alert_rules.requests((rule,), policies, sure, "en", "s", NOW, NOW, 86400, False)
    assert [r.channel for r in got] == ["slack", "digest"]


# -- the gate ------------------------------------------------------------------------------------


def test_gate_reads_the_lead_after_emoji_lines_and_knows_the_language(tmp_path: Path) -> None:
    assert lead("🔴🔴\n—\nFirst words here.\nSecond line.") == "First words here. Second line."
    assert len(lead("word " * 500)) <= 600
    cfg = config_of(tmp_path)
    gate = Gate(cfg)
    assert gate.check("Weather", "🌧️\nThe diplomat spoke.", "en") is not None
    assert gate.check("Weather", "Rain all day.", "en") is None
    # a Persian entry passes the lang:fa clause when the gate knows its language
    assert gate.check("هوای بارانی", "باران می‌بارد.", "fa") is not None
    assert gate.check("هوای بارانی", "باران می‌بارد.") is None


# -- the evaluation command -----------------------------------------------------------------------


def test_evaluation_says_when_the_data_is_absent(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert bench_topics.main(["--data", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert "no en.jsonl and fa.jsonl" in err and "Traceback" not in err


def test_evaluation_scores_a_small_invented_set(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    rows = [
        {"id": "x1", "lang": "en", "source": "s", "title": "Iranian diplomat defects in Oslo",
         "text": "The Iranian diplomat asked for asylum.", "labels": ["defections"],
         "ambiguous": False},
        {"id": "x2", "lang": "en", "source": "s", "title": "Rain in Oslo",
         "text": "It rained.", "labels": [], "ambiguous": False},
        {"id": "x3", "lang": "fa", "source": "s", "title": "دیپلمات پناهندگی گرفت",
         "text": "یک دیپلمات در تهران", "labels": ["defections"], "ambiguous": False},
        {"id": "x4", "lang": "fa", "source": "s", "title": "", "text": "نامشخص",
         "labels": [], "ambiguous": True},
    ]
    for lang in ("en", "fa"):
        (tmp_path / f"{lang}.jsonl").write_text(
            "".join(json.dumps(r) + "\n" for r in rows if r["lang"] == lang), "utf-8")
    out = tmp_path / "result.json"
    assert bench_topics.main(["--data", str(tmp_path), "--stage", "rules", "--out",
                              str(out)]) == 0
    result = json.loads(out.read_text("utf-8"))
    by = {(r["topic"], r["language"]): r for r in result["rules"]["rows"]}
    assert by[("defections", "en")]["tp"] == 1 and by[("defections", "en")]["fp"] == 0
    assert "3 items" not in capsys.readouterr().out  # 4 items, 1 ambiguous left out


def test_training_is_deterministic_and_chooses_from_its_grid() -> None:
    """The same items give the same weights file, the inner choice included."""
    cfg = load_topics(REPO / "config" / "topics.toml", [])
    items = topic_model.load_own(REPO / "tests" / "data" / "topics_dev.json")[:60]
    picked: dict[str, tuple[float, float]] = {}
    first = judge.dump(topic_model.train_all(cfg, items, True, chosen=picked))
    again = judge.dump(topic_model.train_all(cfg, items, True))
    assert first == again
    assert set(picked) == set(cfg.names())
    assert all(rate in topic_model.RATES and power in topic_model.POWERS
               for rate, power in picked.values())


DEV = next((d for d in (REPO.parent / "shared" / "relevance-dev",  # a checkout, a worktree
                        REPO.parent.parent / "shared" / "relevance-dev") if d.is_dir()),
           REPO.parent / "shared" / "relevance-dev")


@pytest.mark.skipif(not (DEV / "en.jsonl").is_file(), reason="the development set is absent")
def test_no_development_text_is_copied_into_the_repository() -> None:
    """No run of 12 words of a real item (title or text, in search form) stands in a text file
    of the repository."""
    from monitor.matching.text import search_form

    def runs(text: str) -> set[tuple[str, ...]]:
        words = search_form(text).split()
        return {tuple(words[i:i + 12]) for i in range(len(words) - 11)}

    dev: set[tuple[str, ...]] = set()
    for name in ("en.jsonl", "fa.jsonl"):
        for line in (DEV / name).read_text("utf-8").splitlines():
            r = json.loads(line)
            dev |= runs(r["title"] or "") | runs(r["text"] or "")
    for path in REPO.rglob("*"):
        if (".venv" in path.parts or ".git" in path.parts or not path.is_file()
                or path.suffix not in {".py", ".md", ".toml", ".json", ".txt", ".cfg"}):
            continue
        assert not runs(path.read_text("utf-8", errors="replace")) & dev, path
