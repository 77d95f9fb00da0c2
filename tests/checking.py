"""What the tests of ``convlab.checks`` share: the message a wrong answer gets."""

import pytest

from convlab.checks import CheckFailed


def failure(check, *args, **kwargs):
    """The message of the ``CheckFailed`` that ``check(*args, **kwargs)`` must raise."""
    with pytest.raises(CheckFailed) as info:
        check(*args, **kwargs)
    return str(info.value)


def head(message):
    """A hint's text before its first ``{placeholder}``: what a message must contain."""
    return message.split("{")[0]
