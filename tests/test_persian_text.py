"""Persian text stays as published: every ZWNJ of the source survives extraction into items.text.

trafilatura's clean-up drops U+200C (and any non-printable character), so `extract_article`
hands it the page with each ZWNJ turned into a printable placeholder and maps it back.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from monitor.demo.corpus import Piece
from monitor.demo.run import write_config
from monitor.demo.simulator import Simulator
from monitor.parsing.extract import ZWNJ_PLACEHOLDERS, extract_article, protect_zwnj, restore_zwnj

ZWNJ = "\u200c"


def _page(paragraphs: list[str]) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f'<html lang="fa"><head><title>عنوان</title></head><body><article><h1>عنوان</h1>'
            f"{body}</article></body></html>")


def test_extraction_keeps_literal_and_referenced_zwnj() -> None:
    sentence = ("او می\u200cگوید که نامه\u200cای بین&zwnj;المللی روز سه&#8204;شنبه و "
                "چهار&#x200C;شنبه نوشته شد و این متن به اندازه کافی بلند است")
    got = extract_article(_page([f"{sentence} {i}." for i in range(8)]), "http://x.test/a")
    assert got is not None
    expected = ("او می\u200cگوید که نامه\u200cای بین\u200cالمللی روز سه\u200cشنبه و "
                "چهار\u200cشنبه نوشته شد و این متن به اندازه کافی بلند است 0.")
    assert got.text.splitlines()[0] == expected
    assert not any(mark in got.text for mark in ZWNJ_PLACEHOLDERS)


def test_a_placeholder_already_in_the_page_is_not_turned_into_a_zwnj() -> None:
    page = f"می{ZWNJ}گوید {ZWNJ_PLACEHOLDERS[0]}"
    protected, mark = protect_zwnj(page)
    assert mark == ZWNJ_PLACEHOLDERS[1]
    assert restore_zwnj(protected, mark) == page


def _stored_fa_items(folder: Path) -> tuple[list[tuple[str, str]], dict[str, Piece]]:
    from monitor.configuration.settings import load_settings
    from monitor.service.app import poll_sources, running

    pieces: dict[str, Piece] = {}
    with Simulator(slow=False) as sim:
        settings = load_settings(write_config(folder, sim))

        async def rounds() -> None:
            async with running(settings) as deps:
                for number in (1, 2, 3):
                    for piece in sim.set_round(number):
                        pieces[sim.article_url(piece)] = piece
                    await poll_sources(deps, deps.store.source_ids())

        asyncio.run(rounds())
    db = sqlite3.connect(folder / "feed-monitor.db")
    rows = db.execute("SELECT url, text FROM items WHERE language = 'fa' AND status = 'ok'"
                      ).fetchall()
    db.close()
    return rows, pieces


def test_demo_persian_items_hold_their_source_text_character_by_character(
        tmp_path: Path) -> None:
    rows, pieces = _stored_fa_items(tmp_path)
    assert len(rows) >= 10
    zwnj_stored = zwnj_source = 0
    for url, text in rows:
        piece = pieces[url]
        source = "\n".join(piece.paragraphs)
        for line in text.splitlines():
            # every stored paragraph is a paragraph of the source, every character equal
            assert line in source, (url, line)
        zwnj_stored += text.count(ZWNJ)
        zwnj_source += sum(p.count(ZWNJ) for p in piece.paragraphs if p in text)
    assert zwnj_source > 100
    assert zwnj_stored == zwnj_source
