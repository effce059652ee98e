"""Bytes to text: the one place that decides an encoding — pure functions.

Order for HTML: byte-order mark, the HTTP ``charset``, a ``<meta charset>`` in the first 4 KB,
valid UTF-8, then charset-normalizer's detection (which reads undeclared windows-1256 Persian
correctly). For XML feeds the XML declaration takes the place of the meta tag. A declared
encoding that does not decode the bytes is ignored rather than trusted, and so is one that is
not a real text encoding (`TEXT_ENCODINGS`: no punycode, idna, utf-7, rot13, base64, zlib...).
Every allowed codec decodes in linear time, and bodies are capped, so decoding stays bounded.
"""

from __future__ import annotations

import codecs
import contextlib
import re

import charset_normalizer

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.I)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9_\-.:]+)["']""")
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def charset_from_content_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    m = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9_\-:.]+)", content_type, re.I)
    return m.group(1) if m else None


# Real text encodings only. A charset parameter or <meta> names any codec Python knows, and
# some are not encodings of text at all (base64, zlib, bz2, uu, hex, rot13: bytes-to-bytes or
# text-to-text) or decode in quadratic time (punycode: 1.28 MB took 114 s) or are mostly an
# attack vector (utf-7, idna, unicode_escape). Anything not named here is ignored as if absent.
TEXT_ENCODINGS = frozenset({
    "utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le",
    "utf-32-be", "ascii", "latin-1", "cp437", "cp720", "cp737", "cp775", "cp850", "cp852",
    "cp855", "cp857", "cp858", "cp860", "cp861", "cp862", "cp863", "cp864", "cp865", "cp866",
    "cp869", "cp874", "cp1125", "cp1250", "cp1251", "cp1252", "cp1253", "cp1254", "cp1255",
    "cp1256", "cp1257", "cp1258", "koi8-r", "koi8-u", "koi8-t", "kz1048", "ptcp154",
    "mac-roman", "mac-cyrillic", "mac-greek", "mac-iceland", "mac-latin2", "mac-turkish",
    "mac-arabic", "mac-farsi", "tis-620", "gb2312", "gbk", "gb18030", "hz", "big5",
    "big5hkscs", "cp932", "cp949", "cp950", "euc-jp", "euc-jis-2004", "euc-jisx0213",
    "euc-kr", "johab", "shift-jis", "shift-jis-2004", "shift-jisx0213", "iso2022-jp",
    "iso2022-jp-1", "iso2022-jp-2", "iso2022-jp-2004", "iso2022-jp-3", "iso2022-jp-ext",
    "iso2022-kr", *(f"iso8859-{n}" for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16)),
})


def _codec(name: str | None) -> str | None:
    """The codec's canonical name if `name` is a real text encoding, else None."""
    if not name or len(name) > 40:
        return None
    try:
        codec = codecs.lookup(name.strip()).name.replace("_", "-")
    except LookupError:
        return None
    return codec if codec in TEXT_ENCODINGS else None


def _try(body: bytes, name: str | None) -> str | None:
    codec = _codec(name)
    if codec is None:
        return None
    try:
        return body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def decode_document(body: bytes, content_type: str | None = None, *,
                    xml: bool = False) -> tuple[str, str]:
    """Decode a document; returns (text, encoding used). Never raises."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return body[len(bom):].decode(name, "replace"), name
    head = body[:4096]
    declared = _XML_ENCODING.search(head) if xml else _META_CHARSET.search(head)
    candidates = [charset_from_content_type(content_type),
                  declared.group(1).decode("ascii", "ignore") if declared else None]
    for candidate in candidates:
        text = _try(body, candidate)
        if text is not None:
            return text, _codec(candidate) or "utf-8"
    text = _try(body, "utf-8")
    if text is not None:
        return text, "utf-8"
    best = charset_normalizer.from_bytes(body[:200_000]).best()
    if best is not None and _codec(best.encoding) is not None:
        with contextlib.suppress(LookupError):
            return body.decode(best.encoding, "replace"), best.encoding
    return body.decode("utf-8", "replace"), "utf-8"
