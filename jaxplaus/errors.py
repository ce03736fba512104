"""The one exception type that means "the user asked for something invalid".

The CLI turns it into a single line on stderr and exit code 2; library callers can catch it.
"""


class UsageError(ValueError):
    """Invalid user input: unknown name, malformed JSON, out-of-domain value."""
