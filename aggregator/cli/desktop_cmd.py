"""``aggregator desktop install|uninstall|autostart`` and ``aggregator open LINK``."""

from __future__ import annotations

import argparse

from aggregator.app.desktop import Desktop
from aggregator.app.runtime import ProfilePaths, ProtocolRegistry
from aggregator.cli import gui_cmd
from aggregator.cli.output import out


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    desktop = sub.add_parser(
        "desktop",
        help="add Aggregator to your desktop's menus, or start it with your session",
        description="Put the desktop entry, AppStream metainfo and icons in $XDG_DATA_HOME (default "
        "~/.local/share), or remove exactly those; write or remove the autostart entry in $XDG_CONFIG_HOME.",
    )
    actions = desktop.add_subparsers(dest="desktop_action", metavar="ACTION", required=True)
    actions.add_parser("install", help="add the menu entry, the icons and the link handlers").set_defaults(
        func=cmd_install
    )
    actions.add_parser("uninstall", help="remove what `desktop install` put").set_defaults(func=cmd_uninstall)
    auto = actions.add_parser("autostart", help="start with my session, minimised to the tray: on, off or status")
    auto.add_argument("state", choices=("on", "off", "status"))
    auto.set_defaults(func=cmd_autostart)

    opener = sub.add_parser(
        "open",
        help="open the conversation of an xmpp:, matrix:, irc: or aggregator: link",
        description="Open the conversation a link points at, in the running window or a new one. Accepts "
        "xmpp:user@host[?message;body=...], xmpp:room@host?join, matrix:u/user:server, matrix:r/room:server, "
        "matrix:roomid/id:server, irc://host/channel, irc://host/nick,isnick and "
        "aggregator:open?account=ACCOUNT&to=ADDRESS (or &room=ROOM).",
    )
    opener.add_argument("link")
    opener.set_defaults(func=cmd_open, minimized=False)


def cmd_install(args: argparse.Namespace, paths: ProfilePaths, registry: ProtocolRegistry) -> int:
    desktop = Desktop.for_profile(paths)
    written = desktop.install()
    out(f"installed {len(written)} files under {desktop.data_home} (menu entry, metainfo, icons)")
    return 0


def cmd_uninstall(args: argparse.Namespace, paths: ProfilePaths, registry: ProtocolRegistry) -> int:
    desktop = Desktop.for_profile(paths)
    if not desktop.is_installed():
        out(f"nothing to remove: `aggregator desktop install` has not put anything under {desktop.data_home}")
        return 0
    removed = desktop.uninstall()
    out(f"removed {len(removed)} files from {desktop.data_home}")
    return 0


def cmd_autostart(args: argparse.Namespace, paths: ProfilePaths, registry: ProtocolRegistry) -> int:
    desktop = Desktop.for_profile(paths)
    if args.state == "on":
        path = desktop.enable_autostart()
        out(f"Aggregator starts with your session, in the tray ({path})")
    elif args.state == "off":
        removed = desktop.disable_autostart()
        out("Aggregator no longer starts with your session" if removed else "autostart was already off")
    else:
        out("on" if desktop.autostart_enabled() else "off")
    return 0


def cmd_open(args: argparse.Namespace, paths: ProfilePaths, registry: ProtocolRegistry) -> int:
    return gui_cmd.cmd_gui(args, paths, registry)
