"""The fictional outlets of the demo simulator, each on its own loopback address.

Every outlet has a look of its own (navigation, cookie banner, related links, author box) so that
extraction has real boilerplate to remove, and a behaviour: RSS or Atom, a listing page with no
feed, a feed that honours conditional requests, a broken feed, a slow server, an aggregator
whose items point at other outlets.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Outlet:
    id: str
    name: str
    language: str
    address: str  # loopback address it listens on
    format: str  # rss | atom | page | aggregator
    scope: str  # general | topic (how the demo configures it)
    conditional: bool = True  # honours If-None-Match / If-Modified-Since with 304
    broken: bool = False
    delay: float = 0.0  # seconds before every answer (the slow outlet)
    nav: tuple[str, ...] = ()
    footer: str = ""
    cookie: str = ""
    related: str = "Related"


OUTLETS: tuple[Outlet, ...] = (
    Outlet("meridian-times", "The Meridian Times", "en", "127.0.0.2", "rss", "general",
           conditional=False,
           nav=("World", "Middle East", "Business", "Sport", "Culture", "Opinion"),
           footer="© 2026 Meridian Times Media Group. All rights reserved.",
           cookie="We use cookies to improve your reading experience. Accept all / Manage",
           related="More from World"),
    Outlet("gulf-observer", "Gulf Observer", "en", "127.0.0.3", "atom", "general",
           nav=("Home", "Region", "Iran", "Gulf", "Energy", "Video"),
           footer="Gulf Observer is an independent regional news service.",
           cookie="This site stores cookies. By continuing you agree to our policy.",
           related="Read next"),
    Outlet("northern-daily", "Northern Daily", "en", "127.0.0.4", "rss", "general",
           nav=("News", "World", "Politics", "Science", "Weather"),
           footer="Northern Daily — news you can trust since 1921.",
           cookie="Your privacy choices: we and our partners use cookies.",
           related="Most read"),
    Outlet("capital-ledger", "Capital Ledger", "en", "127.0.0.5", "page", "general",
           nav=("Latest", "World", "Markets", "Analysis", "Newsletters"),
           footer="Capital Ledger. Subscribe for unlimited access.",
           cookie="Cookies help us deliver our services. OK",
           related="Recommended for you"),
    Outlet("rights-monitor", "Iran Rights Monitor", "en", "127.0.0.6", "rss", "topic",
           nav=("Reports", "Executions", "Prisoners", "Protests", "Donate"),
           footer="Iran Rights Monitor documents violations since 2009.",
           related="Latest reports"),
    Outlet("persian-herald", "هرالد فارسی", "fa", "127.0.0.7", "rss", "general",
           nav=("خانه", "ایران", "جهان", "اقتصاد", "ورزش", "فرهنگ"),
           footer="© ۲۰۲۶ هرالد فارسی. همه حقوق محفوظ است.",
           cookie="این وب‌سایت از کوکی استفاده می‌کند. پذیرفتن",
           related="مطالب مرتبط"),
    Outlet("azadi-news", "آزادی نیوز", "fa", "127.0.0.8", "atom", "topic",
           nav=("صفحه اول", "سیاسی", "اجتماعی", "حقوق بشر", "گزارش"),
           footer="آزادی نیوز، رسانه‌ای مستقل.",
           related="بیشتر بخوانید"),
    Outlet("payam-daily", "روزنامه پیام", "fa", "127.0.0.9", "rss", "general", delay=1.2,
           nav=("اخبار", "سیاست", "اقتصاد", "جامعه", "بین‌الملل"),
           footer="روزنامه پیام — نسخه اینترنتی",
           cookie="برای تجربه بهتر، کوکی‌ها را بپذیرید.",
           related="پربازدیدها"),
    Outlet("broken-gazette", "The Broken Gazette", "en", "127.0.0.10", "rss", "general",
           broken=True, nav=("Home", "News")),
    Outlet("newsfinder", "Newsfinder search: Iran defection", "en", "127.0.0.11", "aggregator",
           "topic"),
)

BY_ID = {o.id: o for o in OUTLETS}
