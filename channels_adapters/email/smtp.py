"""Django's SMTP backend, telling a message the server got whole from one it never got.

SMTP cannot be asked afterwards whether a server kept a message. When the connection drops (or
times out) after the final "." of DATA was written, the server had the whole message and had only
its answer left to give: servers commit the message to their queue before they answer, so Heron
counts it as sent and does not send it again (`AnswerLost`). A failure at any earlier step means the
server does not have it, and sending again is safe.
"""

from __future__ import annotations

import smtplib

from django.core.mail.backends import smtp

END_OF_DATA = b"\r\n.\r\n"


class AnswerLost(smtplib.SMTPServerDisconnected):
    """The whole message was handed over; the server's answer to it never came."""


class _KnowsWhatItSent:
    """Remembers whether the last thing sent was the end of a message's DATA."""

    _sent_end_of_data = False

    def send(self, s) -> None:
        self._sent_end_of_data = False
        super().send(s)
        self._sent_end_of_data = isinstance(s, bytes) and s.endswith(END_OF_DATA)

    def getreply(self):
        try:
            return super().getreply()
        except smtplib.SMTPServerDisconnected as exc:  # smtplib turns a timeout while reading into this too
            if self._sent_end_of_data:
                raise AnswerLost(str(exc)) from exc
            raise


class SMTP(_KnowsWhatItSent, smtplib.SMTP):
    pass


class SMTP_SSL(_KnowsWhatItSent, smtplib.SMTP_SSL):  # noqa: N801 - smtplib's name
    pass


class EmailBackend(smtp.EmailBackend):
    @property
    def connection_class(self):
        return SMTP_SSL if self.use_ssl else SMTP
