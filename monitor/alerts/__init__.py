"""Alerts: who gets told about what (rules and the in-transaction policy), the outbox
dispatcher and the channels."""
