"""Files that travel through chat: their records, safe names, content checks, policy rules and scanning.

Qt-free and protocol-free like the rest of the core. The adapters move bytes; this package decides what a
file is called on disk, whether it may pass, and whether it is held until a scanner says it is clean.
"""
