"""Group chats (rooms): which rooms each account is in or wants to be in, their members and topic.

``service.RoomService`` follows the adapters' room events, keeps the rooms the user wants per account
(``store.RoomStore``, plus the account's ``autojoin`` option) and joins them after every connect.
"""
