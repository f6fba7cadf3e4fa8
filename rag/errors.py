"""The one user-facing error type.

Library code raises :class:`RagError` with a message a person can act on; the CLI
prints it as a single line and exits non-zero, the page shows it as a notice.
"""


class RagError(Exception):
    """A problem the user can fix (bad input, missing model, wrong index...)."""
