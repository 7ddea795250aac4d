"""Contact requests, invitations and blocked peers: what the core keeps of them between runs
(``book.ContactBook``; the values in ``records``)."""
