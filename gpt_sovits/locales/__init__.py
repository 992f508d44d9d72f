"""Translations of the app's messages: one module per language, each a table English template -> translation.

The English templates are the ones written at the raise sites (see `gpt_sovits.messages`); a translation keeps the
same `{placeholders}` (tests/test_messages.py checks that every template used in the package has one). The web UI's
fixed labels are in gpt_sovits/i18n.py.
"""
