"""Messages for the user in English and Chinese: the mechanism (gpt_sovits/messages.py), the completeness of the
translation table (every template in the package, found in the source, has a Chinese entry with the same
placeholders), and real errors rendered in Chinese."""

import ast
import copy
import pickle
import re
import string
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import gpt_sovits.cli  # noqa: F401  (defines OutputError: the scan below needs every GptSovitsError subclass)
import gpt_sovits.service  # noqa: F401
import gpt_sovits.weights  # noqa: F401
from gpt_sovits import audio, validation, voices
from gpt_sovits.checkpoints import load_sovits_checkpoint, load_t2s_checkpoint
from gpt_sovits.encoders import output_format
from gpt_sovits.engine.model_set import file_identity
from gpt_sovits.engine.reference import phonemize_reference_text
from gpt_sovits.engine.speak import TargetSentence, implausible_length_error
from gpt_sovits.errors import GptSovitsError, TextError
from gpt_sovits.locales import zh
from gpt_sovits.messages import Message, Name, joined, locale_from_accept_language, render
from gpt_sovits.settings import InferenceSettings
from gpt_sovits.text.frontend import phonemize, prepare_target_segments

PACKAGE = Path(__file__).resolve().parent.parent / "gpt_sovits"


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


def _error_classes() -> set[str]:
    names, pending = set(), [GptSovitsError]
    while pending:
        error_class = pending.pop()
        names.add(error_class.__name__)
        pending.extend(error_class.__subclasses__())
    return names


def test_no_user_error_is_raised_with_plain_text():
    """A GptSovitsError built from a literal or f-string would show in English to everyone: use Message."""
    error_classes = _error_classes()
    plain = []
    for path in _source_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            name = getattr(node, "func", None) and getattr(node.func, "id", getattr(node.func, "attr", None))
            if isinstance(node, ast.Call) and name in error_classes and node.args:
                if isinstance(node.args[0], (ast.Constant, ast.JoinedStr, ast.BinOp)):
                    plain.append(f"{_relative(path)}:{node.lineno}")
    assert not plain, f"errors raised with plain text: {plain}"


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


def _raises(call) -> GptSovitsError:
    with pytest.raises(GptSovitsError) as caught:
        call()
    return caught.value


def _noise(seconds: float, sample_rate: int = 16000, level: float = 0.1) -> np.ndarray:
    return (level * np.random.default_rng(0).standard_normal(int(seconds * sample_rate))).astype(np.float32)


def _real_errors(tmp_path: Path) -> dict[str, GptSovitsError]:
    """What a user runs into, raised through the public functions."""
    empty, garbage = tmp_path / "empty.wav", tmp_path / "my voice.wav"
    empty.write_bytes(b"")
    garbage.write_bytes(b"RIFF....not really audio")
    truncated, not_a_model = tmp_path / "truncated.ckpt", tmp_path / "notes.pth"
    truncated.write_bytes(b"PK\x03\x04 cut short")
    not_a_model.write_bytes(b"just some text")
    long_clip = (16000, (0.1 * np.ones(16000 * 61)).astype(np.float32))
    chinese_in_english_mode = prepare_target_segments("你好，你是谁", "cut1", "en")[0]
    token_limit = SimpleNamespace(stop_reason="token_limit", decoder_tokens=[1] * 300)
    early_stop = SimpleNamespace(stop_reason="eos", decoder_tokens=[1])
    sentence = TargetSentence(0, "你好。", tuple(phonemize("你好。", "all_zh", "v2").runs), seed=0)
    errors = {
        "empty text": lambda: validation.check_target_text("  "),
        "punctuation only": lambda: validation.check_target_text("？！"),
        "text too long": lambda: validation.check_target_text("字" * 1001),
        "reference text too long": lambda: validation.check_reference_text("字" * 501, 5.0),
        "short clip": lambda: validation.check_reference_audio(_noise(1.5), 16000),
        "silent clip": lambda: validation.check_reference_audio(np.zeros(16000 * 4, np.float32), 16000),
        "unknown language": lambda: validation.check_language_mode("klingon"),
        "language the model lacks": lambda: validation.check_language("all_ko", "v1"),
        "setting out of range": lambda: InferenceSettings(top_k=0),
        "setting not a number": lambda: InferenceSettings(speed="fast"),
        "bad seed": lambda: InferenceSettings(seed=-3),
        "unknown cut method": lambda: InferenceSettings(cut_method="cut9"),
        "unknown streaming": lambda: InferenceSettings(streaming="bytes"),
        "missing audio file": lambda: audio.load_audio(tmp_path / "nope.wav"),
        "empty audio file": lambda: audio.load_audio(empty),
        "not audio": lambda: audio.load_audio(garbage),
        "odd sample rate": lambda: audio.load_audio((1000, np.zeros(4000, np.float32))),
        "clip too long": lambda: audio.load_audio(long_clip),
        "nothing to pronounce": lambda: phonemize(chinese_in_english_mode, "en", "v2").require_speech(
            chinese_in_english_mode
        ),
        "mode the model lacks": lambda: phonemize("你好", "all_yue", "v1"),
        "language the model skips": lambda: phonemize("안녕하세요 여러분", "auto", "v1").require_speech("안녕하세요 여러분"),
        "reference text unpronounceable": lambda: phonemize_reference_text("？！……", "all_zh", "v2"),
        "model file missing": lambda: file_identity(tmp_path / "voice.ckpt"),
        "model file truncated": lambda: load_t2s_checkpoint(truncated),
        "not a model file": lambda: load_sovits_checkpoint(not_a_model),
        "voice without a name": lambda: voices.check_name("  "),
        "unknown audio format": lambda: output_format("wma"),
        "model kept talking": lambda: (_ for _ in ()).throw(implausible_length_error(sentence, token_limit)),
        "model kept stopping": lambda: (_ for _ in ()).throw(implausible_length_error(sentence, early_stop)),
    }
    return {name: _raises(call) for name, call in errors.items()}


def test_real_errors_read_as_chinese_in_chinese(tmp_path):
    for name, error in _real_errors(tmp_path).items():
        assert isinstance(error.args[0], Message), f"{name}: {error!r} is not a Message"
        chinese = render(error, "zh")
        assert re.search("[\u4e00-\u9fff]", chinese) and not english_left(chinese), f"{name}: {chinese}"
        assert render(error, "en") == str(error)


def test_real_notes_read_as_chinese(tmp_path):
    long_clip = _noise(14.0)
    long_clip[:16000 * 13:4000] = 1.0
    _, notes = validation.check_reference_audio(np.clip(long_clip * 12, -1, 1), 16000)
    notes += validation.check_reference_text("你好", 9.0) + validation.check_reference_text("字" * 100, 3.0)
    assert len(notes) == 4
    for note in notes:
        assert not english_left(render(note, "zh")), render(note, "zh")


def test_messages_quote_the_users_text_not_the_padding(tmp_path):
    """The front end speaks 你好，你是谁 as ".你好，你是谁." in English mode; the message shows the user's words."""
    error = _real_errors(tmp_path)["nothing to pronounce"]
    assert "'你好，你是谁'" in str(error) and "'你好，你是谁'" in render(error, "zh")


def test_messages_name_files_by_name_only(tmp_path):
    errors = _real_errors(tmp_path)
    assert "'my voice.wav'" in str(errors["not audio"]) and "'voice.ckpt'" in str(errors["model file missing"])
    assert not [name for name, error in errors.items() if str(tmp_path) in str(error)]
