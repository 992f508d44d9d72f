"""Simplified Chinese (zh-CN) for every message of the app: English template -> Chinese template.

Terms follow the web UI's labels (gpt_sovits/i18n.py): 参考音频, 参考文本, 要合成的文本, 语种, 合成, 模型, 随机种子.
Placeholders stay as in English; values inside them (file names, numbers, codes such as all_zh) are not translated.
"""

MESSAGES = {
    # ----- gpt_sovits/messages.py ---------------------------------------------------------------------------
    "{earlier}, {item}": "{earlier}、{item}",

    # ----- gpt_sovits/validation.py -------------------------------------------------------------------------
    "The reference audio contains invalid samples (NaN or infinity); please export it again.":
        "参考音频中有无效的采样值（NaN 或无穷大），请重新导出这段音频。",
    "The reference audio is {duration:.1f} s long; it must be at least {minimum:g} s. "
    "Please use a clip of {minimum:g}-{maximum:g} seconds of clear speech.":
        "参考音频只有 {duration:.1f} 秒，至少需要 {minimum:g} 秒。请使用一段 {minimum:g}~{maximum:g} 秒、说话清晰的音频。",
    "The reference audio is silent (or almost). Please use a clip in which the voice can be heard clearly.":
        "参考音频没有声音（或几乎没有）。请使用一段能清楚听到人声的音频。",
    "The reference audio was {duration:.1f} s long; used {start:.1f}-{end:.1f} s ({length:.1f} s, ending at "
    "a pause). For the best result, upload a {minimum:g}-{maximum:g} s clip and give exactly its transcript.":
        "参考音频长 {duration:.1f} 秒，已截取其中 {start:.1f}~{end:.1f} 秒（共 {length:.1f} 秒，在停顿处结束）。"
        "想要最好的效果，请上传 {minimum:g}~{maximum:g} 秒的音频，并准确填写其中说的话。",
    "The reference audio is clipped ({fraction:.1%} of samples at full scale), so it sounds distorted and "
    "the cloned voice may too. A quieter recording will work better.":
        "参考音频音量过大、有削波（{fraction:.1%} 的采样达到满幅），听起来失真，克隆出的声音也可能失真。"
        "换一段音量小一些的录音效果会更好。",
    "The text to synthesize is empty. Please type what the voice should say.":
        "要合成的文本是空的。请输入要让这个声音说的话。",
    "The text to synthesize has only punctuation or symbols. Please type words to speak.":
        "要合成的文本只有标点或符号。请输入要说的文字。",
    "The text to synthesize is {length} characters long; the limit is {limit}. "
    "Please split it into several shorter requests.":
        "要合成的文本有 {length} 个字符，上限是 {limit} 个。请把它分成几段，分几次合成。",
    "The reference text is {length} characters long; the limit is {limit}. It should be only the words "
    "spoken in the reference clip (3-10 s).":
        "参考文本有 {length} 个字符，上限是 {limit} 个。参考文本只应是参考音频（3~10 秒）里说的话。",
    "The reference text looks too short for a {duration:.1f} s clip (about {syllables} syllables). "
    "It should be exactly what is said in the clip; a mismatched text makes the voice mumble or repeat. "
    "If you do not know the words, leave the reference text empty.":
        "对一段 {duration:.1f} 秒的音频来说，参考文本好像太短了（约 {syllables} 个音节）。参考文本应与音频里说的话"
        "完全一致；对不上会让合成的声音含糊不清或反复重复。如果不知道音频里说了什么，请把参考文本留空。",
    "The reference text looks too long for a {duration:.1f} s clip (about {syllables} syllables). "
    "It should be exactly what is said in the clip (after any trimming); a mismatched text makes the "
    "output repeat parts of the reference. If you do not know the words, leave the reference text empty.":
        "对一段 {duration:.1f} 秒的音频来说，参考文本好像太长了（约 {syllables} 个音节）。参考文本应与音频（截取后）"
        "里说的话完全一致；对不上会让合成结果重复参考音频里的片段。如果不知道音频里说了什么，请把参考文本留空。",
    "The loaded model ({symbol_version} symbols) has a phone table this app does not know.":
        "当前加载的模型使用 {symbol_version} 音素表，本应用不认识这个音素表。",
    "The loaded model ({symbol_version} symbols) cannot speak {language} ({mode!r}): its phone table has no "
    "phones for it. Choose one of: {choices}, or load a v2 or later model.":
        "当前加载的模型（{symbol_version} 音素表）说不了{language}（{mode!r}）：它的音素表里没有这种语言的音素。"
        "请从这些语种中选择：{choices}；或者加载 v2 及以后版本的模型。",

    # ----- gpt_sovits/settings.py ---------------------------------------------------------------------------
    "Setting '{name}' must be a number, got {value!r}.": "设置项 {name} 必须是数字，现在是 {value!r}。",
    "Setting '{name}' must be between {low} and {high}, got {value}.":
        "设置项 {name} 必须在 {low} 到 {high} 之间，现在是 {value}。",
    "Setting '{name}' must be a whole number, got {value}.": "设置项 {name} 必须是整数，现在是 {value}。",
    "Setting 'seed' must be a whole number from 0 to {maximum} (or empty for random), got {value!r}.":
        "随机种子必须是 0 到 {maximum} 之间的整数（留空则随机），现在是 {value!r}。",
    "Unknown streaming level {level!r}; choose one of {choices}.":
        "不认识的边合成边播放方式 {level!r}；请从这些方式中选择：{choices}。",
    "Unknown cutting method {method!r}; choose one of {choices}.":
        "不认识的切分方式 {method!r}；请从这些方式中选择：{choices}。",

    # ----- gpt_sovits/text/languages.py ---------------------------------------------------------------------
    "Unknown language mode {code!r}. Choose one of: {choices}.": "不认识的语种 {code!r}。请从这些语种中选择：{choices}。",
    "{code} ({name})": "{code}（{name}）",
}
