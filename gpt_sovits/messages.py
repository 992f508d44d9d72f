"""What the app tells a person (errors, warnings, progress), in English and Chinese.

A message is written once, in English, where it happens, with its variable parts as named parameters:

    raise TextError(Message("The text is {length} characters long; the limit is {limit}.", length=1200, limit=1000))

`Message` is a `str` whose value is the English text, so logs, `str(error)` and everything else that treats
messages as text keep working. It also keeps its template and parameters, so the UI and the HTTP API can show it in
the visitor's language: `render(error, locale)`. The translations live in one table per language,
`gpt_sovits/locales/<locale>.py` (English template -> translated template, same placeholders); a template without
a translation is shown in English. Parameters that are messages themselves (or errors carrying one) are rendered
in the same language, so messages compose:

    Message("Reference text: {error} (Or leave the reference text empty.)", error=text_error)

Programmer errors (ValueError, RuntimeError, ...) are not messages: they stay plain English.
"""

import functools
import os
import sys

from gpt_sovits.locales import zh

# "en" is the source language: its "table" is the templates themselves.
LOCALES = ("en", "zh")
_TRANSLATIONS = {"en": {}, "zh": zh.MESSAGES}


class Message(str):
    """A message for the user: its `str` value is the English text; `render(locale)` gives it in another language."""

    def __new__(cls, template: str, /, **params):
        message = super().__new__(cls, _fill(template, params, "en"))
        message.template, message.params = template, params
        return message

    def render(self, locale: str) -> str:
        """The message in `locale` (one of LOCALES); English where the table has no translation of it."""
        return _fill(_table(locale).get(self.template, self.template), self.params, locale)

    def __reduce__(self):
        # Copying or pickling must rebuild from the template (str's default would rebuild from the English text).
        return functools.partial(Message, self.template, **self.params), ()


class Name(Message):
    """A name that carries its own translations, for data that already holds them (the language registry's names)."""

    def __new__(cls, english: str, **translations: str):
        name = super().__new__(cls, "{name}", name=english)
        name.translations = translations
        return name

    def render(self, locale: str) -> str:
        _table(locale)  # an unknown locale is refused here too
        return self.translations.get(locale, str(self))

    def __reduce__(self):
        return functools.partial(Name, str(self), **self.translations), ()


def joined(items) -> Message | str:
    """Several values as one list: "a, b, c" in English, "a、b、c" in Chinese (each item rendered in the locale)."""
    items = list(items)
    if not items:
        return ""
    return functools.reduce(lambda earlier, item: Message("{earlier}, {item}", earlier=earlier, item=item), items)


def render(value, locale: str) -> str:
    """A Message, or an exception whose first argument is one, in `locale`; anything else as `str(value)`."""
    return str(_localized(value, locale))


def _table(locale: str) -> dict[str, str]:
    if locale not in _TRANSLATIONS:
        raise ValueError(f"unknown locale {locale!r}; messages are rendered in one of {LOCALES}")
    return _TRANSLATIONS[locale]


def _localized(value, locale: str):
    if isinstance(value, Message):
        return value.render(locale)
    if isinstance(value, BaseException) and value.args and isinstance(value.args[0], Message):
        return value.args[0].render(locale)
    return value  # numbers keep their format specs ("{seconds:.1f}")


def _fill(template: str, params: dict, locale: str) -> str:
    return template.format(**{name: _localized(value, locale) for name, value in params.items()})


def locale_from_accept_language(header: str | None) -> str:
    """The locale to answer in, from an HTTP Accept-Language header: "zh-CN,zh;q=0.9,en;q=0.8" -> "zh".

    The visitor's most preferred language that we have (highest q, then first listed); English when none is.
    """
    choices = []
    for position, entry in enumerate((header or "").split(",")):
        tag, *parameters = entry.split(";")
        quality = 1.0
        for parameter in parameters:
            key, _, value = parameter.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        # Every Chinese tag (zh, zh-CN, zh-TW, zh-HK, zh-Hant, ...) gets our one Chinese table. It is simplified
        # Chinese, which readers of traditional Chinese read too, and far better for them than English.
        language = tag.strip().lower().replace("_", "-").split("-")[0]
        if language in LOCALES and quality > 0:
            choices.append((-quality, position, language))
    return min(choices)[2] if choices else "en"


def terminal_locale() -> str:
    """"zh" or "en", from the POSIX locale variables in the order gettext reads them ("zh_CN.UTF-8" -> "zh")."""
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable)
        if value:
            return locale_from_accept_language(value.split(".")[0])
    return "en"


def terminal_text(message) -> str:
    """A message (or plain text) in the terminal's language: for what the CLI and the server print or exit with."""
    return render(message, terminal_locale())


def say(message, file=None) -> None:
    """Print a message (or plain text) in the terminal's language."""
    print(terminal_text(message), file=file or sys.stdout)
