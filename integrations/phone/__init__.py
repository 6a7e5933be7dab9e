"""Phone channel: a cloud telephony provider's webhooks answered in TwiML (Twilio's Voice XML)."""
