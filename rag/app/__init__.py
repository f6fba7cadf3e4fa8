"""The user-facing shells: the `rag` command (cli, the only argparse), the chat page (ui, ui_messages, static/)."""
