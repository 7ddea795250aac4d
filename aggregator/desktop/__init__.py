"""Desktop integration without Qt: the XDG desktop entry and icons, autostart, and ``xmpp:``/``matrix:``/
``irc:``/``aggregator:`` links."""
