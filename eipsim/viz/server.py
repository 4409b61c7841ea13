"""Start the browser app: what ``eipsim viz [SCENARIO] [--host H] [--port P]`` calls.

The Solara server runs in this process (so Ctrl-C or SIGTERM stops everything, with no
orphaned server). The scenario reaches ``app.py`` through an environment variable because
Solara imports the app file itself. Solara's version check and usage telemetry are switched
off: the app must work offline and should not report to third parties.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import os
import socket
import warnings
from pathlib import Path

from eipsim.errors import UserError
from eipsim.viz.levers import SCENARIO_ENV

APP = Path(__file__).with_name("app.py")
PORT_MAX = 65535


def free_port(host: str = "127.0.0.1") -> int:
    """A port the OS says is free now (it could be taken before we bind, which is rare)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host if host != "localhost" else "127.0.0.1", 0))
        return int(s.getsockname()[1])


def check_port(host: str, port: int) -> None:
    """UserError (one line, exit 2) if ``port`` is out of range or another program holds it.
    The check binds the port the way the server will (SO_REUSEADDR, like uvicorn), then lets
    it go; another program could take it in between, which is rare."""
    if not 0 < port <= PORT_MAX:
        raise UserError(f"--port {port}: a port is a whole number from 1 to {PORT_MAX}")
    bind_host = "127.0.0.1" if host == "localhost" else host
    family = socket.AF_INET6 if ":" in bind_host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((bind_host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise UserError(
                    f"port {port} on {host} is already in use by another program; choose "
                    "another with --port, or leave --port out to take a free one"
                ) from None
            if exc.errno == errno.EACCES:
                raise UserError(
                    f"port {port} on {host}: permission denied (ports below 1024 need "
                    "administrator rights); choose another with --port"
                ) from None
            raise UserError(f"cannot listen on {host} port {port}: {exc.strerror}") from None


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def app_env(scenario_path: str | None) -> dict[str, str]:
    """Environment for the app: the scenario; no telemetry; a closed tab's model (kept by
    Solara in case the tab reconnects) is freed after an hour instead of Solara's 24 h."""
    env: dict[str, str] = {
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
        "SOLARA_KERNEL_CULL_TIMEOUT": "1h",
        "SOLARA_THEME_SHOW_BANNER": "False",
    }
    if scenario_path:
        p = Path(scenario_path)
        if not p.is_file():
            raise UserError(f"{p}: scenario file not found")
        env[SCENARIO_ENV] = str(p.resolve())
    return env


def solara_args(host: str, port: int) -> list[str]:
    return [
        "run",
        str(APP),
        "--host",
        host,
        "--port",
        str(port),
        "--production",  # no auto-reload, no dev tooling
        "--no-open",
        "--no-check-version",
    ]


def serve(scenario_path: str | None, host: str = "127.0.0.1", port: int | None = None) -> int:
    """Run the app until interrupted; returns an exit code. ``port`` None or 0: a free one."""
    for key, value in app_env(scenario_path).items():
        if key == SCENARIO_ENV:
            os.environ[key] = value
        else:
            os.environ.setdefault(key, value)  # the user's own Solara settings win
    # Solara warns on every visit that samesite=none cookies need https; over plain http
    # that is expected, so keep the terminal readable.
    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https")
    if not port:
        port = free_port(host if is_loopback(host) else "0.0.0.0")
    else:
        check_port(host, port)  # before printing an address that might be another program's
    shown = host if host not in ("0.0.0.0", "::") else socket.gethostname()
    shown = f"[{shown}]" if ":" in shown else shown
    print(f"eipsim viz: open http://{shown}:{port}/ in a browser (Ctrl-C stops the server)")
    if not is_loopback(host):
        print(
            f"warning: listening on {host}, not only this machine: anyone who can reach port "
            f"{port} can use the app (run models here, read the scenario files it offers, "
            "download results). There is no login; use this only on a trusted network."
        )
    import signal

    import click
    from solara.__main__ import cli

    from eipsim.viz.ensemble import prestart

    prestart()  # the ensembles' process server, shielded from the terminal's Ctrl-C

    # uvicorn shuts down on SIGTERM, then re-raises it; with Python's default handler the
    # process would die there, leaving the ensemble processes behind. This handler turns it
    # into an exception, so the pool is stopped below.
    def on_term(signum: int, frame: object) -> None:
        raise _Stop

    old_term = signal.signal(signal.SIGTERM, on_term)
    try:
        cli.main(args=solara_args(host, port), prog_name="solara", standalone_mode=False)
    except (KeyboardInterrupt, click.exceptions.Abort, _Stop):  # Ctrl-C or SIGTERM: quietly
        return 0
    except SystemExit as exc:  # click or uvicorn exiting with a status
        return int(exc.code or 0) if not isinstance(exc.code, str) else 1
    finally:
        signal.signal(signal.SIGTERM, old_term)
        with contextlib.suppress(Exception):
            from eipsim.viz.ensemble import shutdown

            shutdown()
    return 0


class _Stop(Exception):
    """SIGTERM reached the server."""
