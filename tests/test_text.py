"""Normalisation: Persian/Arabic letter forms, ZWNJ, digits, bidi, case — pure functions."""

from monitor.matching.text import guess_language, normalize, one_line, search_form, words


def test_arabic_letter_forms_become_persian() -> None:
    assert normalize("علي كريمي") == normalize("علی کریمی") == "علی کریمی"


def test_tatweel_and_diacritics_are_dropped() -> None:
    assert normalize("اعتـــراض") == "اعتراض"
    assert normalize("مُحَمَّد") == "محمد"


def test_zwnj_runs_unify_and_search_form_drops_them() -> None:
    assert normalize("می\u200c\u200cشود") == "می\u200cشود"
    assert normalize("می \u200c شود") == "می\u200cشود"
    assert search_form("می\u200cشود") == search_form("میشود") == "میشود"


def test_digits_become_ascii() -> None:
    assert normalize("۱۴۰۴ و ١٤٠٤") == "1404 و 1404"


def test_bidi_controls_and_nul_removed() -> None:
    assert normalize("\u202eevil\u202c\u200f text\x00") == "evil text"


def test_case_folding_and_whitespace() -> None:
    assert normalize("  IRAN\tProtests\n\nGrow ") == "iran protests grow"


def test_nfkc_folds_presentation_forms() -> None:
    assert normalize("\ufeb3\ufe8e\ufee0\ufee3") == normalize("سالم")


def test_lone_surrogates_do_not_crash() -> None:
    assert normalize("a\ud800b") == "a b"


def test_words_keep_zwnj_inside_words() -> None:
    assert words(normalize("اعتراض‌ها ادامه دارد")) == ["اعتراض\u200cها", "ادامه", "دارد"]


def test_one_line_removes_line_breaks_and_caps() -> None:
    assert one_line("a\r\nb\u2028c", 100) == "a b c"
    assert len(one_line("x" * 500, 50)) == 50


def test_guess_language() -> None:
    assert guess_language("اعتراض‌ها در تهران ادامه دارد", "en") == "fa"
    assert guess_language("Protests continue in Tehran", "fa") == "en"
    assert guess_language("Protests continue", "en") == "en"
