"""User-facing errors: a message that names the problem and the fix, never a stack trace."""


class RnnlabError(Exception):
    """A problem with the user's input or environment that the user can fix.

    The message must say what is wrong and how to fix it; `cli.main` prints it
    without a traceback and exits with status 2.
    """
