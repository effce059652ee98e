"""`monitor web`: check where it may listen, then run the reader under uvicorn.

On a loopback address the reader runs open (or with the token, if one is configured). Any other
address (0.0.0.0, a LAN address, a host name) needs `web.token`: without one it refuses to start
and says how to configure it.
"""

from __future__ import annotations

import ipaddress
import os

from monitor.configuration.settings import Settings
from monitor.errors import ConfigError
from monitor.service.logs import register_secret
from monitor.web.app import ReaderConfig, create_app


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def reader_config(settings: Settings, host: str) -> ReaderConfig:
    """The reader's configuration; ConfigError when the token is needed but missing."""
    token = None
    ref = settings.web.token
    if ref is not None:
        try:
            token = ref.resolve(settings.config_path.resolve().parent, os.environ).reveal()
        except ValueError as exc:
            raise ConfigError([f"{settings.config_path}: web.token: {exc}"]) from None
        register_secret(token)
    if token is None and not is_loopback(host):
        raise ConfigError([
            f"monitor web: refusing to listen on {host} without an access token: anyone who "
            f"can reach it could read the database. Set web.token_env = 'VAR' or "
            f"web.token_file = 'path' in {settings.config_path}, or listen on 127.0.0.1."])
    return ReaderConfig(database=settings.database.path, topics=tuple(settings.topics.names()),
                        datasette_url=settings.web.datasette_url, token=token)


def run(settings: Settings, *, host: str | None, port: int | None) -> int:
    import uvicorn

    host = host or settings.web.host
    port = port or settings.web.port
    config = reader_config(settings, host)
    if not settings.database.path.exists():
        raise ConfigError([f"no database at {settings.database.path}: run `monitor migrate` "
                           "or the daemon first"])
    shown = f"[{host}]" if ":" in host else host
    print(f"feed-monitor reader on http://{shown}:{port}/ (read-only"
          f"{', access token required' if config.token else ''}; Ctrl-C stops)", flush=True)
    uvicorn.run(create_app(config), host=host, port=port, log_level="warning",
                server_header=False, proxy_headers=False)
    return 0
