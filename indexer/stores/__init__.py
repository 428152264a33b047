"""Where a built index is served from: the index folder or PostgreSQL, behind one interface.

``base.IndexStore`` is what search and answers read; ``folder.FolderStore`` (the default)
and ``postgres.PostgresStore`` implement it; ``factory.open_store`` picks one by settings.
"""
