"""Conversations: the inbound pipeline and the outbound service (the archive's one writer)."""
