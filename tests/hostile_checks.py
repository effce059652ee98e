"""The hostile world, round two: checks that are not one feed of a poll run (issue 16).

Each `Check` is a named function that raises `AssertionError` (with what it saw) on failure;
`run_checks` turns them into rows of the same table as the feed cases (`tests.hostile`).
This module: the address guard over the IANA special-purpose registries (class 4), alert
channels (3), configuration edge cases (12), SMTP answers (13). The operational checks
(classes 1, 5, 7-11, 14, 15) are in `tests.hostile_ops`.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import ipaddress
import tempfile
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Check:
    name: str
    category: str
    run: Callable[[], str]  # returns what it saw; raises AssertionError on failure


def run_checks(checks: list[Check]) -> list[Any]:
    from tests.hostile import Case, Outcome

    out = []
    for check in checks:
        case = Case(check.name, check.category, None, "check")
        try:
            out.append(Outcome(case, True, check.run()))
        except AssertionError as exc:
            out.append(Outcome(case, False, str(exc) or "assertion failed"))
        except Exception as exc:  # a check that crashed: the code under test raised
            out.append(Outcome(case, False, f"{type(exc).__name__}: {exc}", crashed=True))
    return out


def expect(condition: bool, detail: str) -> None:
    if not condition:
        raise AssertionError(detail)


# -- 4. the address guard over the IANA special-purpose registries ---------------------------

# (address, permitted without any allow range): one row per registry block (an address inside
# it), every IPv4-embedding IPv6 form with a private and a public IPv4, and public controls.
GUARD_TABLE: list[tuple[str, bool]] = [
    ("0.1.2.3", False), ("10.20.30.40", False), ("100.64.1.1", False), ("127.0.0.2", False),
    ("169.254.169.254", False), ("172.16.5.4", False), ("172.31.255.255", False),
    ("192.0.0.8", False), ("192.0.0.9", False), ("192.0.0.170", False), ("192.0.2.1", False),
    ("192.31.196.1", False), ("192.52.193.1", False), ("192.88.99.1", False),
    ("192.168.1.1", False), ("192.175.48.1", False), ("198.18.0.1", False),
    ("198.19.255.1", False), ("198.51.100.7", False), ("203.0.113.9", False),
    ("224.0.0.251", False), ("239.255.255.250", False), ("240.0.0.1", False),
    ("255.255.255.255", False),
    ("::", False), ("::1", False), ("100::1", False), ("100:0:0:1::1", False),
    ("2001:1::1", False), ("2001:1::2", False), ("2001:2::1", False), ("2001:3::1", False),
    ("2001:4:112::1", False), ("2001:10::1", False), ("2001:20::1", False),
    ("2001:db8::1", False), ("2620:4f:8000::1", False), ("3fff::1", False), ("5f00::1", False),
    ("fc00::1", False), ("fd12:3456::1", False), ("fe80::1", False), ("fec0::1", False),
    ("feff::1", False), ("ff02::1", False),
    # IPv6 forms that embed an IPv4 address: judged by it
    ("::ffff:169.254.169.254", False), ("::ffff:8.8.8.8", True),
    ("::a9fe:a9fe", False), ("::127.0.0.2", False), ("::ffff:0:a9fe:a9fe", False),
    ("::ffff:0:10.0.0.1", False), ("64:ff9b::a9fe:a9fe", False), ("64:ff9b::7f00:1", False),
    ("64:ff9b::808:808", True), ("64:ff9b:1::a9fe:a9fe", False), ("64:ff9b:1::c0a8:101", False),
    ("2002:a9fe:a9fe::1", False), ("2002:7f00:1::1", False), ("2002:808:808::1", True),
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", False),  # Teredo, client 192.0.2.45
    ("2001:0:a00:1:8000:63bf:f7f7:f7f7", False),  # Teredo via a private server 10.0.0.1
    ("2001:0:4136:e378:8000:63bf:f7f7:f7f7", True),  # Teredo, public server and client
    ("2a00:1450:4001::200:5efe:a9fe:a9fe", False),  # ISATAP identifier around 169.254/16
    # public controls
    ("8.8.8.8", True), ("1.1.1.1", True), ("151.101.1.69", True), ("2606:4700::1111", True),
    ("2a00:1450:4001:81b::200e", True),
]


def _guard_check(address: str, permitted: bool) -> Check:
    def run() -> str:
        from monitor.fetching.network import AddressGuard

        got = AddressGuard().permits(ipaddress.ip_address(address))
        expect(got == permitted, f"permits({address}) = {got}, expected {permitted}")
        return f"{'permitted' if got else 'refused'}"
    return Check(f"guard {address}", "guard table", run)


def _guard_allowed(address: str, network: str) -> Check:
    def run() -> str:
        from monitor.fetching.network import AddressGuard

        guard = AddressGuard((ipaddress.ip_network(network),))
        expect(guard.permits(ipaddress.ip_address(address)), f"{network} does not allow {address}")
        return f"allowed by {network}"
    return Check(f"guard {address} allowed by {network}", "guard table", run)


# -- 3. one bad channel never stops the others ------------------------------------------------

def _config(folder: Path, extra: str, env: dict[str, str]) -> Any:
    from monitor.configuration.settings import load_settings
    from tests.conftest import FAST_MONITOR_TOML, REPO, source_toml

    (folder / "sources.toml").write_text(source_toml("s", "http://127.0.0.1:9/feed"))
    (folder / "topics.toml").write_bytes((REPO / "config" / "topics.toml").read_bytes())
    (folder / "monitor.toml").write_text(FAST_MONITOR_TOML.format(
        allow='["127.0.0.1/32"]', deadline="2s", max_wire="1MiB", max_decoded="4MiB",
        extract_timeout="3s", extra="") + extra)
    return load_settings(folder / "monitor.toml", env=env)


BAD_CHANNEL_URLS = {
    "zero-width space in host": "https://hooks.exa\u200bmple.org/services/T/B/x",
    "soft hyphen in host": "https://hooks.exa\u00admple.org/services/T/B/x",
    "RTL override in host": "https://hooks.\u202eelpmaxe.org/x",
    "ESC in path": "https://hooks.example.org/a\x1bb",
    "invalid IDNA host": "https://xn--zz.invalid/services/x",
    "port out of range": "https://hooks.example.org:99999/x",
    "ftp scheme": "ftp://hooks.example.org/x",
}


def _refused_at_config(what: str, url: str, channel: str) -> Check:
    def run() -> str:
        from monitor.errors import ConfigError

        key = "webhook_url_env" if channel == "slack" else "url_env"
        extra = (f'\n[[alerts.rule]]\nchannels = ["{channel}"]\n[alerts.{channel}]\n'
                 f'enabled = true\n{key} = "HOOK"\n')
        with tempfile.TemporaryDirectory() as tmp:
            try:
                _config(Path(tmp), extra, {"HOOK": url})
            except ConfigError as exc:
                text = "\n".join(exc.problems)
                expect("not a usable URL" in text, f"refused, but unclearly: {text}")
                expect(url not in text, "the secret URL is in the message")
                return text.rsplit(": ", 1)[-1]
        raise AssertionError("check-config accepted the URL")
    return Check(f"{channel} URL with {what} refused by check-config", "channels", run)


class _ClosedConsole:
    """A console channel whose stream is closed: `print` raises ValueError."""
    name = "console"

    def __init__(self) -> None:
        from monitor.alerts.channels import Console

        stream = io.StringIO()
        stream.close()
        self.inner = Console(stream)

    async def send(self, rows: Any, digest: bool) -> None:
        await self.inner.send(rows, digest)


def _dispatcher_survives(what: str, url: str) -> Check:
    def run() -> str:
        import httpx

        from monitor.alerts.channels import Slack, Webhook
        from monitor.alerts.dispatch import Dispatcher
        from storage import Store
        from tests.server import Reply, TestServer

        with TestServer() as server, tempfile.TemporaryDirectory() as tmp:
            server.route("/hook", Reply(200, {}, b"ok"))
            settings = _config(Path(tmp), "", {})
            store = Store.open(Path(tmp) / "d.db")

            async def go() -> Any:
                async with httpx.AsyncClient() as client:
                    channels: dict[str, Any] = {
                        "webhook": Webhook(client, url), "console": _ClosedConsole(),
                        "slack": Slack(client, server.url("/hook"))}
                    d = Dispatcher(settings.alerts, store, channels, lambda: NOW)
                    store.queue_operator_alert(list(channels), "Strike in Tabriz", "k1", NOW)
                    return await d.run_once()
            report = asyncio.run(go())
            rows = {r["channel"]: (r["state"], r["attempts"]) for r in store._query(
                "SELECT channel, state, attempts FROM alerts")}
            store.close()
            expect(rows.get("slack") == ("sent", 1), f"the good channel: {rows}")
            expect(all(state != "sending" for state, _ in rows.values()), f"stuck: {rows}")
            expect(rows.get("webhook", ("?",))[0] in ("pending", "failed")
                   and rows.get("console", ("?",))[0] in ("pending", "failed"), f"{rows}")
            return f"sent {report.sent}, retried {report.retried}, failed {report.failed}"
    return Check(f"dispatcher survives a webhook with {what}", "channels", run)


def _alerts_test_prints(what: str, url: str) -> Check:
    def run() -> str:
        from monitor.commands import operations as commands
        from monitor.configuration.secrets import Secret

        extra = ('\n[[alerts.rule]]\nchannels = ["slack"]\n[alerts.slack]\nenabled = true\n'
                 'webhook_url_env = "HOOK"\n')
        with tempfile.TemporaryDirectory() as tmp:
            settings = _config(Path(tmp), extra, {"HOOK": "https://hooks.example.org/x"})
            from monitor.alerts.channels.slack import SlackOptions
            options = {**settings.alerts.options, "slack": SlackOptions(Secret(url))}
            settings = replace(settings, alerts=replace(settings.alerts, options=options))
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                code = asyncio.run(commands.alerts_test(settings, channel=None))
        text = out.getvalue()
        expect(code == 1 and "slack: failed:" in text, f"exit {code}: {text!r}")
        expect("Traceback" not in text and url not in text, f"unclear: {text!r}")
        return text.strip().splitlines()[-1]
    return Check(f"alerts test with a slack URL with {what}", "channels", run)


# -- 12. configuration edge cases ---------------------------------------------------------------

def _bad_source(what: str, field_text: str, needle: str) -> Check:
    def run() -> str:
        from monitor.configuration.settings import load_settings
        from monitor.errors import ConfigError
        from tests.conftest import FAST_MONITOR_TOML, REPO

        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            fields = {"id": '"dup2"', "language": '"en"', "interval": '"5m"'}
            key, value = field_text.split("=", 1)
            fields[key.strip()] = value.strip()
            good = textwrap.dedent("""\
                [[source]]
                id = "dup"
                name = "A"
                kind = "feed"
                url = "https://a.example.org/feed"
                language = "en"
                outlet = "A"
                scope = "topic"
                """)
            bad = good.replace('id = "dup"', f'id = {fields["id"]}').replace(
                'language = "en"', f'language = {fields["language"]}').replace(
                'url = "https://a', f'interval = {fields["interval"]}\nurl = "https://b')
            (folder / "sources.toml").write_text(good + "\n" + bad)
            (folder / "topics.toml").write_bytes((REPO / "config" / "topics.toml").read_bytes())
            (folder / "monitor.toml").write_text(FAST_MONITOR_TOML.format(
                allow="[]", deadline="2s", max_wire="1MiB", max_decoded="4MiB",
                extract_timeout="3s", extra=""))
            try:
                load_settings(folder / "monitor.toml", env={})
            except ConfigError as exc:
                text = "\n".join(exc.problems)
                expect(needle in text, f"refused for another reason: {text}")
                return text.splitlines()[0][-80:]
        raise AssertionError(f"accepted {field_text!r}")
    return Check(f"config: {what}", "config", run)


CREDENTIAL_BYTES = {
    "invalid start byte": b"\xffpw-Sup3r\xfe",
    "truncated UTF-8": b"pw-Sup3r\xe2\x82",
    "Latin-1 secret": "p\u00e4ssw\u00f6rd-Sup3r".encode("latin-1"),
    "UTF-16 with BOM": "pw-Sup3r".encode("utf-16"),
}


def _credential_file(what: str, content: bytes) -> Check:
    def run() -> str:
        from monitor.errors import ConfigError

        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "smtp.pw").write_bytes(content)
            extra = ('\n[[alerts.rule]]\nchannels = ["email"]\n[alerts.email]\nenabled = true\n'
                     'to = ["x@example.org"]\nusername = "u"\npassword_file = "smtp.pw"\n')
            try:
                _config(Path(tmp), extra, {})
            except ConfigError as exc:
                text = "\n".join(exc.problems)
                expect("alerts.email.password" in text and "smtp.pw" in text,
                       f"does not name the setting and file: {text}")
                said = text.replace(tmp, "<dir>")  # a random folder name may hold "0x"
                for leak in ("position", "0x", "byte", "Sup3r", "\\x"):
                    expect(leak not in said, f"reveals {leak!r}: {text}")
                return text.rsplit(": ", 1)[-1]
        raise AssertionError("a non-UTF-8 credential file was accepted")
    return Check(f"credential file: {what}", "config", run)


# -- 13. SMTP: 4xx transient, 5xx permanent ---------------------------------------------------

@contextlib.contextmanager
def _smtp(stage: str, reply: str) -> Iterator[int]:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    from tests.test_alerts import _free_port

    class Handler:
        async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str,
                              options: Any) -> str:
            envelope.mail_from = address
            return reply if stage == "MAIL" else "250 OK"

        async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                              options: Any) -> str:
            envelope.rcpt_tos.append(address)
            return reply if stage == "RCPT" else "250 OK"

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            return reply if stage == "DATA" else "250 OK"

    def auth(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        return AuthResult(success=False, handled=False, message=reply)

    controller = Controller(Handler(), hostname="127.0.0.1", port=_free_port(),
                            authenticator=auth, auth_require_tls=False)
    controller.start()
    try:
        yield controller.port
    finally:
        controller.stop()


def _smtp_answer(stage: str, reply: str, permanent: bool) -> Check:
    def run() -> str:
        from monitor.alerts.channels import Email, EmailOptions
        from monitor.commands.operations import _TEST_ROW
        from monitor.configuration.secrets import Secret
        from monitor.errors import ChannelError

        with _smtp(stage, reply) as port:
            user = "u" if stage == "AUTH" else ""  # a successful login warns (aiosmtpd 1.4)
            channel = Email(EmailOptions("127.0.0.1", port, "none", "m@example.org",
                                         ("x@example.org",), user, Secret("pw")), 5.0)
            try:
                asyncio.run(channel.send([_TEST_ROW], False))
            except ChannelError as exc:
                expect(exc.permanent == permanent,
                       f"{reply[:3]} at {stage}: permanent={exc.permanent}, expected {permanent}")
                return f"{exc} ({'permanent' if exc.permanent else 'retried'})"
        raise AssertionError("the send succeeded")
    kind = "permanent" if permanent else "transient"
    return Check(f"SMTP {reply[:3]} at {stage} is {kind}", "smtp", run)


CHECKS: list[Check] = [
    *(_guard_check(a, p) for a, p in GUARD_TABLE),
    _guard_allowed("192.0.0.8", "192.0.0.0/24"), _guard_allowed("fec0::1", "fec0::/10"),
    _guard_allowed("::ffff:10.1.2.3", "10.0.0.0/8"),
    _guard_allowed("64:ff9b::a01:203", "10.0.0.0/8"),
    *(_refused_at_config(what, url, channel) for i, (what, url) in
      enumerate(BAD_CHANNEL_URLS.items()) for channel in (("slack", "webhook")[i % 2],)),
    _refused_at_config("zero-width space in host", BAD_CHANNEL_URLS[
        "zero-width space in host"], "webhook"),
    *(_dispatcher_survives(what, BAD_CHANNEL_URLS[what]) for what in (
        "zero-width space in host", "invalid IDNA host", "ESC in path", "port out of range")),
    *(_alerts_test_prints(what, BAD_CHANNEL_URLS[what]) for what in (
        "zero-width space in host", "invalid IDNA host", "ESC in path")),
    _bad_source("source id with a trailing newline", 'id = "dup\\n"', "id"),
    _bad_source("source id with a trailing newline only", 'id = "x\\n"', "id"),
    _bad_source("language with a trailing newline", 'language = "en\\n"', "language"),
    _bad_source("interval in Persian digits", 'interval = "۵m"', "duration"),
    _bad_source("interval in full-width digits", 'interval = "５m"', "duration"),
    *(_credential_file(what, content) for what, content in CREDENTIAL_BYTES.items()),
    _smtp_answer("AUTH", "454 4.7.0 Temporary authentication failure", False),
    _smtp_answer("AUTH", "535 5.7.8 Authentication credentials invalid", True),
    _smtp_answer("RCPT", "451 4.3.0 Try again later", False),
    _smtp_answer("RCPT", "452 4.2.2 Mailbox full", False),
    _smtp_answer("RCPT", "550 5.1.1 No such user", True),
    _smtp_answer("MAIL", "421 4.3.2 Service not available", False),
    _smtp_answer("DATA", "451 4.3.0 Local error", False),
    _smtp_answer("DATA", "554 5.6.0 Message refused", True),
]
