"""A small bilingual gazetteer: Iranian cities, provinces and institutions in English and Persian.

Each entry is a canonical key with its English spellings (lower case; the usual
transliterations) and its Persian spellings (in the search form: Arabic letter forms folded, no
ZWNJ). `anchors` finds the keys in a text, so a Persian and an English report of one event share
them. Written for this project; extend it in place.
"""

from __future__ import annotations

PLACES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "tehran": (("tehran",), ("تهران",)),
    "isfahan": (("isfahan", "esfahan"), ("اصفهان",)),
    "mashhad": (("mashhad",), ("مشهد",)),
    "tabriz": (("tabriz",), ("تبریز",)),
    "shiraz": (("shiraz",), ("شیراز",)),
    "ahvaz": (("ahvaz", "ahwaz"), ("اهواز",)),
    "kermanshah": (("kermanshah",), ("کرمانشاه",)),
    "rasht": (("rasht",), ("رشت",)),
    "zahedan": (("zahedan",), ("زاهدان",)),
    "sanandaj": (("sanandaj",), ("سنندج",)),
    "qom": (("qom",), ("قم",)),
    "karaj": (("karaj",), ("کرج",)),
    "arak": (("arak",), ("اراک",)),
    "yazd": (("yazd",), ("یزد",)),
    "kerman": (("kerman",), ("کرمان",)),
    "urmia": (("urmia", "orumiyeh"), ("ارومیه",)),
    "bandar_abbas": (("bandar abbas",), ("بندرعباس", "بندر عباس")),
    "abadan": (("abadan",), ("آبادان",)),
    "hamedan": (("hamedan", "hamadan"), ("همدان",)),
    "zanjan": (("zanjan",), ("زنجان",)),
    "bushehr": (("bushehr",), ("بوشهر",)),
    "khuzestan": (("khuzestan",), ("خوزستان",)),
    "kurdistan": (("kurdistan province",), ("استان کردستان",)),
    "gilan": (("gilan",), ("گیلان",)),
    "sistan_baluchestan": (("sistan and baluchestan", "sistan-baluchestan"),
                           ("سیستان و بلوچستان",)),
    "fars": (("fars province",), ("استان فارس",)),
    "mazandaran": (("mazandaran",), ("مازندران",)),
}

INSTITUTIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "irgc": (("revolutionary guards", "irgc", "revolutionary guard corps"), ("سپاه",)),
    "basij": (("basij",), ("بسیج",)),
    "judiciary": (("judiciary",), ("قوه قضاییه", "دستگاه قضایی")),
    "parliament": (("parliament", "majlis"), ("مجلس",)),
    "oil_ministry": (("oil ministry", "ministry of oil"), ("وزارت نفت",)),
    "foreign_ministry": (("foreign ministry", "ministry of foreign affairs"),
                         ("وزارت خارجه", "وزارت امور خارجه")),
    "intelligence_ministry": (("intelligence ministry", "ministry of intelligence"),
                              ("وزارت اطلاعات",)),
    "state_tv": (("state television", "irib", "state broadcaster"), ("صداوسیما", "صدا و سیما")),
    "interior_ministry": (("interior ministry", "ministry of interior"), ("وزارت کشور",)),
    "evin": (("evin",), ("اوین",)),
    "central_bank": (("central bank",), ("بانک مرکزی",)),
    "embassy": (("embassy",), ("سفارت",)),
    "national_team": (("national team",), ("تیم ملی",)),
    "university": (("university",), ("دانشگاه",)),
    "bazaar": (("bazaar",), ("بازار",)),
    "teachers": (("teachers",), ("معلمان", "فرهنگیان")),
    "truckers": (("truck drivers", "truckers"), ("رانندگان کامیون",)),
    "petrochemical": (("petrochemical",), ("پتروشیمی",)),
    "steel": (("steel",), ("فولاد",)),
    "nurses": (("nurses",), ("پرستاران",)),
    "retirees": (("retirees", "pensioners"), ("بازنشستگان",)),
    "asylum": (("asylum",), ("پناهندگی",)),
}
