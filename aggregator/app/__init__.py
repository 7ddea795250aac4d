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
- ``types`` and ``runtime``: the value types and the runtime pieces (paths, lock, engine) front ends use.
"""
