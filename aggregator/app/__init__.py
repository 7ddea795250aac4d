"""The application layer: what a person can do with the program, and what the views show.

The window (``ui``), the command line (``aggregator.cli``) and the control socket (``aggregator.control``)
call only this package (plus ``aggregator.api`` and event types); an import-linter contract says so.

- ``application.App``: the commands and read models over one running core (the window, the headless run,
  the CLI's one-shot commands), called on the engine thread; ``requests.Requests`` answers the control
  socket with the same commands; ``enrich`` makes events carry what their readers show.
- ``accounts``: add, edit, remove, enable, disable accounts, live (running core) or offline (CLI).
- ``persons``, ``rooms``, ``status``, ``settings``, ``trust``: the JSON-request commands shared by the
  control socket and the CLI; ``person_commands`` the window's person commands; ``oneshot`` the CLI's
  connect-send-wait commands.
- Read models (frozen rows): ``rows`` (buddy list, accounts), ``room_rows``, ``search_rows``,
  ``reply_info``, ``account_selves``, ``names`` (sender names), ``preferences``; ``wire`` their JSON.
- ``offline``: the same commands and read models on a profile no instance runs (the CLI while nothing
  runs): ``offline.profile.OfflineProfile`` opens the profile's archive once; persons, rooms, settings,
  policy, retention, search, stats, export, import, templates and status commands use it.
- ``desktop``: the menu entry, autostart and links (``aggregator.desktop``) for the front ends.
- ``types`` and ``runtime``: the value types and the runtime pieces (paths, lock, engine) front ends use.
"""
