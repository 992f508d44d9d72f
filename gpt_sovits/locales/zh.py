"""Simplified Chinese (zh-CN) for every message of the app: English template -> Chinese template.

Terms follow the web UI's labels (gpt_sovits/i18n.py): 参考音频, 参考文本, 要合成的文本, 语种, 合成, 模型, 随机种子.
Placeholders stay as in English; values inside them (file names, numbers, codes such as all_zh) are not translated.
"""

MESSAGES = {
    # ----- gpt_sovits/messages.py ---------------------------------------------------------------------------
    "{earlier}, {item}": "{earlier}、{item}",
}
