"""Start the replay app (app/app.py) with its own server options, from any folder: `preictal-app`.

Streamlit reads `.streamlit/config.toml` from the folder it is started in, so a plain
`streamlit run app/app.py` started elsewhere listens on every interface and sends usage
statistics. The launcher passes the options as command-line flags instead, which streamlit ranks
above every config file. Arguments after them are the user's: `--server.port 8502`, or, after
`--`, the app's own `--results DIR`. A flag the user gives again (say `--server.address 0.0.0.0`)
wins, as the later of two flags does in streamlit's command line.
"""

from __future__ import annotations

import sys
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app" / "app.py"

# The app's server options; .streamlit/config.toml holds the same, for `streamlit run` from the
# repository root (tests/test_app_server.py keeps the two equal).
OPTIONS = {
    "server.address": "127.0.0.1",  # this machine only
    "server.headless": "true",  # print the URL, open no browser, ask for no e-mail
    "browser.gatherUsageStats": "false",  # send nothing anywhere
    "browser.serverAddress": "127.0.0.1",  # the URL it prints
    "client.toolbarMode": "viewer",
}

# Options whose streamlit default exposes the app, and what the default does.
EXPOSING_DEFAULTS = {
    "server.address": "listens on every network interface",
    "browser.gatherUsageStats": "sends usage statistics",
}


def streamlit_args(user_args: list[str]) -> list[str]:
    """The `streamlit` command line: run the app with OPTIONS, then the user's arguments."""
    flags = [part for key, value in OPTIONS.items() for part in (f"--{key}", value)]
    return ["run", str(APP), *flags, *user_args]


def exposing_defaults() -> list[str]:
    """The options of EXPOSING_DEFAULTS that nobody set (no flag, config file or environment
    variable), so that the server does what EXPOSING_DEFAULTS says. A value someone chose, even
    0.0.0.0, counts as set. Empty under AppTest, which starts no server."""
    from streamlit import config

    if config.get_option("global.appTest"):
        return []
    return [key for key in EXPOSING_DEFAULTS if not config.is_manually_set(key)]


def exposure_warning(unset: list[str]) -> str:
    """What a server started with ``unset`` options at their defaults does, and how to start the
    app instead."""
    does = " and ".join(EXPOSING_DEFAULTS[key] for key in unset)
    return (
        f"This server was started without the app's settings ({', '.join(unset)} left at "
        f"streamlit's defaults): it {does}, so the app shows nothing. Stop it and start the app "
        "with `preictal-app` (from any folder), or with `streamlit run app/app.py` from the "
        "repository root."
    )


def main(argv: list[str] | None = None) -> None:
    if not APP.is_file():  # a non-editable install has no app/ folder
        sys.exit(f"preictal-app: {APP} not found; install the checkout with `pip install -e .`")
    from streamlit.web import cli

    cli.main(args=streamlit_args(sys.argv[1:] if argv is None else argv), prog_name="streamlit")


if __name__ == "__main__":
    main()
