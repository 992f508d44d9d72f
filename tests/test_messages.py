"""Messages for the user in English and Chinese: the mechanism (gpt_sovits/messages.py), the completeness of the
translation table (every template in the package, found in the source, has a Chinese entry with the same
placeholders), and real errors rendered in Chinese."""

import ast
import copy
import pickle
import re
import string
from pathlib import Path

import pytest

import gpt_sovits.cli  # noqa: F401  (defines OutputError: the scan below needs every GptSovitsError subclass)
import gpt_sovits.service  # noqa: F401
import gpt_sovits.weights  # noqa: F401
from gpt_sovits.errors import GptSovitsError, TextError
from gpt_sovits.locales import zh
from gpt_sovits.messages import Message, Name, joined, locale_from_accept_language, render

PACKAGE = Path(__file__).resolve().parent.parent / "gpt_sovits"
# Files whose messages are still plain English, being changed by others at the time of writing; their errors show
# in English in every locale until they are converted (then take them off this list).
NOT_YET_TRANSLATED = ("checkpoints.py", "weights.py", "mel.py", "ui/", "server/")


# ----- the mechanism ----------------------------------------------------------------------------------------


def test_a_message_is_its_english_text():
    message = Message("The text is {length} characters long.", length=1200)
    assert message == "The text is 1200 characters long."
    assert isinstance(message, str) and str(message) == message
    assert str(TextError(message)) == "The text is 1200 characters long."
    assert message.template == "The text is {length} characters long." and message.params == {"length": 1200}


def test_render_uses_the_table_and_falls_back_to_english(monkeypatch):
    monkeypatch.setitem(zh.MESSAGES, "{seconds:.1f} s of {name}", "{name}的 {seconds:.1f} 秒")
    message = Message("{seconds:.1f} s of {name}", seconds=2.25, name="x.wav")
    assert message.render("zh") == "x.wav的 2.2 秒"
    assert message.render("en") == "2.2 s of x.wav"
    untranslated = Message("Not in any table: {n}.", n=3)
    assert untranslated.render("zh") == "Not in any table: 3."
    with pytest.raises(ValueError, match="unknown locale"):
        message.render("fr")


def test_messages_compose_in_one_language(monkeypatch):
    monkeypatch.setitem(zh.MESSAGES, "Inner {n}.", "内层 {n}。")
    monkeypatch.setitem(zh.MESSAGES, "Outer: {error}", "外层：{error}")
    inner = TextError(Message("Inner {n}.", n=1))
    outer = Message("Outer: {error}", error=inner)
    assert outer == "Outer: Inner 1."
    assert outer.render("zh") == "外层：内层 1。"
    assert render(TextError(outer), "zh") == "外层：内层 1。"


def test_render_takes_messages_errors_and_plain_text():
    assert render("plain", "zh") == "plain"
    assert render(ValueError("internal"), "zh") == "internal"
    assert render(Name("Cantonese", zh="粤语"), "zh") == "粤语"
    assert render(Name("Cantonese", zh="粤语"), "en") == "Cantonese"


def test_joined_lists_in_the_locale():
    listing = joined([Name("Chinese", zh="中文"), "en", Name("Korean", zh="韩文")])
    assert listing == "Chinese, en, Korean"
    assert listing.render("zh") == "中文、en、韩文"
    assert joined(["one"]) == "one" and joined([]) == ""


def test_messages_survive_copy_and_pickle():
    message = Message("Outer: {error}", error=Message("{name} {n:.1f}", name=Name("Korean", zh="韩文"), n=2.0))
    for clone in (copy.copy(message), copy.deepcopy(message), pickle.loads(pickle.dumps(message))):
        assert clone == message and clone.template == message.template
        assert clone.render("zh") == message.render("zh")
    error = pickle.loads(pickle.dumps(TextError(message)))
    assert isinstance(error.args[0], Message)


@pytest.mark.parametrize(
    ("header", "locale"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        ("en-US,en;q=0.9,zh-CN;q=0.8", "en"),
        ("zh-TW", "zh"),
        ("zh-HK,en;q=0.5", "zh"),
        ("zh-Hant-TW", "zh"),
        ("fr-FR,fr;q=0.9,zh;q=0.5,en;q=0.4", "zh"),
        ("fr-FR,de;q=0.9", "en"),
        ("en;q=0.5,zh;q=0.6", "zh"),
        ("zh;q=0,en", "en"),
        ("ZH-cn", "zh"),
        ("*", "en"),
        ("zh;q=oops,en", "en"),
        ("", "en"),
        (None, "en"),
    ],
)
def test_locale_from_accept_language(header, locale):
    assert locale_from_accept_language(header) == locale


# ----- the table is complete: a static scan of the package ------------------------------------------------


def _source_files():
    return sorted(PACKAGE.rglob("*.py"))


def _relative(path: Path) -> str:
    return path.relative_to(PACKAGE).as_posix()


def _fields(template: str) -> set[tuple[str, str, str | None]]:
    """(name, format spec, conversion) of each placeholder: "{seconds:.1f}" -> ("seconds", ".1f", None)."""
    return {
        (re.split(r"[.\[]", field)[0], spec, conversion)
        for _, field, spec, conversion in string.Formatter().parse(template)
        if field is not None
    }


def _placeholders(template: str) -> set[str]:
    return {name for name, _, _ in _fields(template)}


def _message_calls():
    """(where, template, parameter names) of every `Message(...)` written in the package."""
    calls = []
    for path in _source_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "Message":
                where = f"{_relative(path)}:{node.lineno}"
                template = node.args[0] if node.args else None
                assert isinstance(template, ast.Constant) and isinstance(template.value, str), (
                    f"{where}: a Message template must be a literal string, so this test can find it"
                )
                calls.append((where, template.value, {keyword.arg for keyword in node.keywords}))
    return calls


def test_every_message_has_its_parameters():
    for where, template, parameters in _message_calls():
        assert parameters == _placeholders(template), f"{where}: {template!r} is given {sorted(parameters)}"


def test_every_message_has_a_chinese_translation():
    untranslated = [(where, template) for where, template, _ in _message_calls() if template not in zh.MESSAGES]
    assert not untranslated, "add these to gpt_sovits/locales/zh.py:\n" + "\n".join(map(str, untranslated))
    for template, translation in zh.MESSAGES.items():
        assert _fields(translation) == _fields(template), f"placeholders differ: {template!r}"


def test_the_table_has_no_stale_entries():
    used = {template for _, template, _ in _message_calls()}
    assert not set(zh.MESSAGES) - used, "no longer used anywhere; remove from gpt_sovits/locales/zh.py"


# ----- the Chinese reads as Chinese ---------------------------------------------------------------------------

# Three or more English words in a row: a sentence left untranslated.
_ENGLISH_RUN = re.compile(r"[A-Za-z]{2,}(?:[ ,]+[A-Za-z]{2,}){2,}")
_CODE = re.compile(r"`[^`]*`")


def english_left(text: str) -> list[str]:
    """English sentences in `text`, ignoring `code` and quoted values ('file.wav', 「...」, "...")."""
    text = _CODE.sub("", text)
    text = re.sub(r"'[^']*'|「[^」]*」|\"[^\"]*\"", "", text)
    return _ENGLISH_RUN.findall(text)


def test_every_translation_is_chinese():
    for template, translation in zh.MESSAGES.items():
        skeleton = re.sub(r"\{[^}]*\}", "", translation)
        assert not english_left(skeleton), f"English left in the translation of {template!r}: {translation!r}"
        if re.search("[A-Za-z]", _CODE.sub("", skeleton)):  # words, not only placeholders and punctuation
            assert re.search("[\u4e00-\u9fff]", skeleton), f"not Chinese: {translation!r}"
