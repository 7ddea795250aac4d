"""The application layer on a profile no instance runs (the CLI's commands while nothing runs).

``profile.OfflineProfile`` opens the profile's archive once (the ``--database`` URL, the
``database_url`` setting or the profile's file) and the services the commands need; the modules here
are its commands and read models, one family each: ``persons``, ``rooms``, ``preferences``,
``policy`` (with ``policy_text``), ``retention``, ``archive_reads`` (search, stats, export),
``importer``, ``templates``, ``status``. The JSON-request commands they answer are the running app's own
(``aggregator.app.persons``, ``rooms``, ``settings``, ``status``): only the services under them differ.
"""
