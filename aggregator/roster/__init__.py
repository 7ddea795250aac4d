"""The buddy list: persons across accounts, their presence, merge suggestions, unread counts."""
