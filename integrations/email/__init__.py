"""E-mail: an SMTP server (aiosmtpd) that turns mail to the advisory's mailboxes into tickets."""
