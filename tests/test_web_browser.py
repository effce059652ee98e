"""The reader in a real browser: Debian's chromium, headless, driven by Selenium through the
system chromedriver. One browser for the module; the demo's database, filled by the real
pipeline; pages loaded, links followed, filters and the search box used."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.web.app import ReaderConfig
from tests.browser import NoBrowser, browser
from tests.webserver import serve_reader

TOPICS = ("defections", "protests")


@pytest.fixture(scope="module")
def site(reader_db: Path) -> Iterator[tuple[Any, str]]:
    with serve_reader(ReaderConfig(reader_db, TOPICS, "http://127.0.0.1:8001/")) as base:
        try:
            with browser() as driver:
                yield driver, base
        except NoBrowser as exc:
            pytest.skip(f"no browser for the reader's tests: {exc}")


def db_rows(db: Path, sql: str, *params: object) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return list(conn.execute(sql, params))
    finally:
        conn.close()


def css(driver: Any, selector: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return list(driver.find_elements(By.CSS_SELECTOR, selector))


def follow(driver: Any, element: Any, submit: bool = False) -> None:
    """Click (or submit) and wait until the next page has replaced this one."""
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    page = css(driver, "html")[0]
    if submit:
        element.submit()
    else:
        element.click()
    WebDriverWait(driver, 10).until(expected_conditions.staleness_of(page))


def test_story_list_links_to_a_persian_story_with_its_text_intact(site: tuple[Any, str],
                                                                  reader_db: Path) -> None:
    driver, base = site
    driver.get(base + "/")
    band = css(driver, ".possible-band li.story a.headline")  # possible matches, listed apart
    headlines = [a for a in css(driver, "li.story a.headline") if a not in band]
    assert len(headlines) == 30 and css(driver, "nav.pager a[rel=next]")
    persian = next(a for a in headlines if a.get_attribute("lang") == "fa")
    assert persian.get_attribute("dir") == "rtl"
    title = persian.text
    follow(driver, persian)
    h1 = css(driver, "h1")[0]
    assert h1.text == title and h1.get_attribute("dir") == "rtl"
    story_id = int(driver.current_url.rsplit("/", 1)[1])
    (text,) = db_rows(reader_db, "SELECT i.text FROM stories s JOIN items i ON i.id = "
                      "s.representative_item_id WHERE s.id = ?", story_id)[0]
    article = css(driver, "div.article")[0]
    assert article.get_attribute("dir") == "rtl" and article.get_attribute("lang") == "fa"
    shown = [p.text for p in css(driver, "div.article p")]
    assert shown == [p.strip() for p in text.split("\n") if p.strip()]
    rows = css(driver, "table.sightings tbody tr")
    count = db_rows(reader_db, "SELECT count(*) FROM items WHERE story_id = ?", story_id)[0][0]
    assert len(rows) == count
    assert len(css(driver, "svg.chart .first-reporter")) == 1
    assert len(css(driver, "svg.chart g.sighting")) == len({r.find_element(
        "css selector", "td").text for r in rows}) - 1


def test_filters_narrow_the_list_and_survive_paging(site: tuple[Any, str],
                                                    reader_db: Path) -> None:
    from selenium.webdriver.support.ui import Select

    driver, base = site
    driver.get(base + "/")
    Select(css(driver, "select[name=lang]")[0]).select_by_value("fa")
    Select(css(driver, "select[name=topic]")[0]).select_by_value("protests")
    follow(driver, css(driver, ".filters button")[0])
    assert "lang=fa" in driver.current_url and "topic=protests" in driver.current_url
    band = css(driver, ".possible-band li.story a.headline")  # possible matches, listed apart
    links = [a for a in css(driver, "li.story a.headline") if a not in band]
    expected = db_rows(reader_db, "SELECT count(DISTINCT s.id) FROM stories s JOIN items i "
                       "ON i.story_id = s.id JOIN item_topics t ON t.item_id = i.id WHERE "
                       "t.topic = 'protests' AND t.state = 'match' "
                       "AND (',' || s.languages || ',') LIKE '%,fa,%'")[0][0]
    assert 0 < len(links) == min(expected, 30)
    assert all(a.get_attribute("dir") == "rtl" for a in links)
    assert all("protests" in li.text for li in css(driver, "li.story ul.topics"))
    Select(css(driver, "select[name=outlet]")[0]).select_by_index(1)
    follow(driver, css(driver, ".filters button")[0])
    assert "outlet=" in driver.current_url


def test_search_box_finds_both_letter_forms_and_highlights(site: tuple[Any, str]) -> None:
    driver, base = site
    counts = []
    for query in ("پناهندگی", "پناهندگي"):  # Persian yeh, then Arabic yeh
        driver.get(base + "/")
        box = css(driver, "form.quick input[name=q]")[0]
        box.send_keys(query)
        follow(driver, box, submit=True)
        hits = css(driver, "li.hit")
        marks = css(driver, "li.hit p.snippet mark")
        assert hits and marks and all("پناهندگ" in m.text for m in marks)
        counts.append(len(hits))
    assert counts[0] == counts[1]
    follow(driver, css(driver, "li.hit a.headline")[0])
    assert "/stories/" in driver.current_url and css(driver, "table.sightings")


def test_trends_charts_come_with_their_numbers(site: tuple[Any, str], reader_db: Path) -> None:
    driver, base = site
    driver.get(base + "/trends")
    assert len(css(driver, "svg.chart")) == 4
    firsts = {r.find_elements("css selector", "td")[0].text:
              int(r.find_elements("css selector", "td")[1].text)
              for r in css(driver, "#first-reporters table tbody tr")}
    stories = sum(firsts.values())
    assert stories == db_rows(reader_db, "SELECT count(*) FROM stories WHERE first_seen_at >= "
                              "datetime('now', '-30 days')")[0][0]
    assert all(str(n) in css(driver, "#first-reporters svg")[0].get_attribute("innerHTML")
               for n in firsts.values())
    css(driver, "#per-day-30 summary")[0].click()  # opens in place
    cells = css(driver, "#per-day-30 table tbody tr")
    assert len(cells) == 30 and cells[-1].text.split()[1:]
    assert {r.find_elements("css selector", "td")[0].text
            for r in css(driver, "#languages table tbody tr")} == {"en", "fa"}
    follow(driver, css(driver, "a[href='/trends?days=90']")[0])
    assert "last 90 days" in css(driver, "#first-reporters h2")[0].text


def test_sources_page_shows_each_source_and_its_health(site: tuple[Any, str],
                                                       reader_db: Path) -> None:
    driver, base = site
    driver.get(base + "/sources")
    rows = css(driver, "table.sources tbody tr")
    assert len(rows) == db_rows(reader_db, "SELECT count(*) FROM sources")[0][0]
    broken = next(r for r in rows if "broken-gazette" in r.text)
    (error,) = db_rows(reader_db, "SELECT last_error FROM sources WHERE id = 'broken-gazette'")[0]
    assert error and error in broken.text
    follow(driver, css(driver, "nav a[href='/']")[0])
    assert css(driver, "li.story")


def test_hostile_headlines_render_as_inert_text(site: tuple[Any, str], reader_db: Path) -> None:
    from selenium.common.exceptions import NoAlertPresentException

    driver, base = site
    ids = [r[0] for r in db_rows(reader_db, "SELECT id FROM stories WHERE first_outlet = "
                                 "'<b>Outlet</b>' ORDER BY id")]
    headlines = []
    for story_id in ids:
        driver.get(f"{base}/stories/{story_id}")
        headlines.append(css(driver, "h1")[0].text)
        assert driver.execute_script("return window.pwned === undefined "
                                     "&& document.scripts.length === 0")
        assert not css(driver, "main img, main iframe, main b")
        with pytest.raises(NoAlertPresentException):
            _ = driver.switch_to.alert.text
    assert headlines[0].startswith("<script>window.pwned = 1;")
    assert headlines[3].startswith("{{ 7*7 }}")
    driver.get(base + "/search?q=pwned")
    assert driver.execute_script("return window.pwned === undefined")
    assert all(a.get_attribute("href") is None or a.get_attribute("href").startswith("http")
               for a in css(driver, "a"))
