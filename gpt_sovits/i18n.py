"""Web UI text in English and Chinese, keyed by short names; the browser's language picks one (`gr.I18n`).

Only the fixed labels live here. Messages computed per request (errors, warnings, the status line) come from the
engine and are in English.
"""

ENGLISH = {
    "title": "# GPT-SoVITS voice cloning",
    "intro": (
        "Upload a **3-10 second** clip of a voice and type exactly what it says; then type what that voice should "
        "say and press **Synthesize**. Works with official GPT-SoVITS v1 / v2 / v2Pro / v2ProPlus models and your "
        "own fine-tuned ones."
    ),
    "model": "Model",
    "gpt_model": "GPT model (*.ckpt)",
    "sovits_model": "SoVITS model (*.pth)",
    "refresh": "Refresh lists",
    "no_models": "No models yet",
    "download_version": "Official version to download",
    "download": "Download official models",
    "reference": "### Reference voice",
    "reference_audio": "Reference audio (3-10 s; longer clips are trimmed at a pause)",
    "reference_text": "Reference text: exactly what the clip says",
    "reference_language": "Reference language",
    "reference_free": "No reference text (reference-free mode)",
    "reference_free_info": "An empty reference text turns this on too. Works best with a fine-tuned GPT model.",
    "extra_reference_audio": "Extra clips of the same voice (optional): when given, their averaged timbre is used instead of the main clip's",
    "target": "### What to say",
    "target_text": "Text to synthesize",
    "target_language": "Language of the text",
    "cut_method": "How to cut the text",
    "advanced": "Advanced settings",
    "top_k": "top_k",
    "top_p": "top_p",
    "temperature": "temperature (keep it high in reference-free mode)",
    "repetition_penalty": "repetition penalty",
    "speed": "speed",
    "pause_seconds": "pause between sentences (s)",
    "seed": "seed (-1 = random)",
    "synthesize": "Synthesize",
    "stop": "Stop",
    "streaming": "Play while it is made",
    "streaming_sentence": "Sentence by sentence (exact)",
    "streaming_token": "As soon as possible (first sound sooner, slightly different audio)",
    "live": "Listen (plays while the rest is made)",
    "result": "Result (exact WAV)",
    "status": "Status",
    "examples": "Examples (robotic voices made with eSpeak NG; cached after the first click)",
    "language_all_zh": "Chinese",
    "language_zh": "Chinese-English mix",
    "language_en": "English",
    "language_auto": "Auto-detect (Chinese / English)",
    "cut0": "No cutting",
    "cut1": "Every 4 sentences",
    "cut2": "Every 50 characters",
    "cut3": "At Chinese full stops (。)",
    "cut4": "At English full stops (.)",
    "cut5": "At every punctuation mark",
}

CHINESE = {
    "title": "# GPT-SoVITS 声音克隆",
    "intro": (
        "上传一段 **3~10 秒** 的参考音频并填写其中说的原文，再输入要合成的文本，点击 **合成语音**。"
        "支持官方 GPT-SoVITS v1 / v2 / v2Pro / v2ProPlus 模型以及你自己微调的模型。"
    ),
    "model": "模型",
    "gpt_model": "GPT 模型 (*.ckpt)",
    "sovits_model": "SoVITS 模型 (*.pth)",
    "refresh": "刷新模型列表",
    "no_models": "还没有模型",
    "download_version": "要下载的官方版本",
    "download": "下载官方模型",
    "reference": "### 参考音色",
    "reference_audio": "参考音频（3~10 秒；更长的会在停顿处截断）",
    "reference_text": "参考音频的文本（与音频内容完全一致）",
    "reference_language": "参考音频的语种",
    "reference_free": "无参考文本模式",
    "reference_free_info": "不填参考文本也会开启此模式。建议配合微调过的 GPT 模型使用。",
    "extra_reference_audio": "可选：同一音色的更多参考音频；提供后使用它们平均融合的音色（代替主参考音频的音色）",
    "target": "### 要说的内容",
    "target_text": "需要合成的文本",
    "target_language": "需要合成的语种",
    "cut_method": "怎么切",
    "advanced": "高级设置",
    "top_k": "top_k",
    "top_p": "top_p",
    "temperature": "temperature（无参考文本时不要太低）",
    "repetition_penalty": "重复惩罚",
    "speed": "语速",
    "pause_seconds": "句间停顿秒数",
    "seed": "随机种子（-1 为随机）",
    "synthesize": "合成语音",
    "stop": "停止",
    "streaming": "边合成边播放",
    "streaming_sentence": "逐句播放（与完整合成完全一致）",
    "streaming_token": "尽快播放（更快出声，音频略有不同）",
    "live": "试听（边合成边播放）",
    "result": "输出的语音（无损 WAV）",
    "status": "状态",
    "examples": "示例（eSpeak NG 生成的机器人声音；首次点击后缓存）",
    "language_all_zh": "中文",
    "language_zh": "中英混合",
    "language_en": "英文",
    "language_auto": "多语种混合（中文 / 英文）",
    "cut0": "不切",
    "cut1": "凑四句一切",
    "cut2": "凑50字一切",
    "cut3": "按中文句号。切",
    "cut4": "按英文句号.切",
    "cut5": "按标点符号切",
}


def translations() -> dict[str, dict[str, str]]:
    """Locale code -> key -> text, as `gr.I18n(**translations())` takes it."""
    return {"en": ENGLISH, "zh-CN": CHINESE, "zh": CHINESE}
