"""The streaming engine: chunks in order and joined into the result, token streaming without clicks, the runaway
guard, cancellation, clip warnings worked out per request, and the model pool.

Runs on the tiny checkpoints (see test_engine.py for the checkpoints that force the model to stop at once).
"""

import gc
import threading
import time
from dataclasses import replace

import numpy as np
import pytest
import soundfile
import torch

from gpt_sovits.engine import Engine, ModelChoice, SynthesisRequest, speak
from gpt_sovits.errors import SynthesisCancelled, SynthesisError
from gpt_sovits.messages import Message
from gpt_sovits.settings import InferenceSettings
from test_engine import EOS, REFERENCE_RUNS, SHORT_TARGET, _paths, _speech_like

REFERENCE_TEXT = "今天天气很好，我们一起去公园散步吧。"
TARGET_TEXT = "今天天气很好，我们一起去公园散步吧。然后我们去吃饭，晚上再看一场电影。"


@pytest.fixture(scope="module")
def engine(tiny_checkpoints):
    return Engine(_paths(tiny_checkpoints), model_pool_size=2)


@pytest.fixture(scope="module")
def reference_wav(tmp_path_factory):
    path = tmp_path_factory.mktemp("reference") / "reference.wav"
    soundfile.write(path, _speech_like(4.0), 32000)
    return path


def _request(reference, **settings) -> SynthesisRequest:
    return SynthesisRequest(
        reference_audio=str(reference), reference_text=REFERENCE_TEXT, reference_language="all_zh",
        target_text=TARGET_TEXT, target_language="all_zh",
        settings=InferenceSettings(seed=3, cut_method="cut5", **settings),
    )  # fmt: skip


@pytest.mark.parametrize("streaming", ["sentence", "token"])
def test_chunks_come_in_order_and_join_into_the_result(engine, reference_wav, single_thread, streaming):
    stream = engine.stream(_request(reference_wav, streaming=streaming))
    chunks = list(stream)
    result = stream.result()
    assert [chunk.sentence_index for chunk in chunks] == sorted(chunk.sentence_index for chunk in chunks)
    assert {chunk.sentence_index for chunk in chunks if chunk.sentence_end} == set(range(len(result.sentences)))
    assert np.array_equal(np.concatenate([chunk.audio for chunk in chunks]), result.audio)
    starts = np.cumsum([0] + [len(chunk.audio) for chunk in chunks[:-1]]) / result.sample_rate
    np.testing.assert_allclose([chunk.start_seconds for chunk in chunks], starts, atol=1e-9)
    for sentence in result.sentences:  # subtitles come from these
        assert sentence.start_seconds < sentence.end_seconds <= result.duration_seconds
    if streaming == "sentence":
        assert len(chunks) == len(result.sentences)


def test_sentence_streaming_is_exactly_the_whole_synthesis(engine, reference_wav, single_thread):
    """Sentence by sentence, each chunk is the audio the one-shot call gives (the exact mode)."""
    whole = engine.synthesize(_request(reference_wav))
    chunks = list(engine.stream(_request(reference_wav)))
    assert np.array_equal(np.concatenate([chunk.audio for chunk in chunks]), whole.audio)


def test_token_streaming_has_no_clicks_and_tracks_the_exact_audio(engine, reference_wav, single_thread):
    """Without decode noise the streamed audio follows the exact audio, and no seam jumps.

    The pieces differ from the exact audio mostly in a sentence's first piece: the text encoder attends over the
    whole token sequence, of which the first piece knows only a prefix (upstream's token streaming does the same).
    On these random tiny weights that costs more than on a trained model; benchmarks/streaming.py reports the SNR."""
    exact = engine.synthesize(_request(reference_wav, noise_scale=0.0))
    stream = engine.stream(_request(reference_wav, noise_scale=0.0, streaming="token"))
    chunks = list(stream)
    streamed = stream.result()
    assert len(chunks) > len(streamed.sentences), "token streaming gives several pieces per sentence"
    assert [len(s.tokens) for s in streamed.sentences] == [len(s.tokens) for s in exact.sentences]
    n = min(len(exact.audio), len(streamed.audio))
    error = exact.audio[:n] - streamed.audio[:n]
    snr = 10 * np.log10(np.sum(exact.audio[:n] ** 2) / np.sum(error**2))
    assert snr > 15, f"streamed vs exact SNR {snr:.1f} dB"
    jumps = np.abs(np.diff(streamed.audio))
    seams = [int(chunk.start_seconds * streamed.sample_rate) for chunk in chunks[1:]]
    typical = np.percentile(jumps, 99.9)
    for seam in seams:
        assert jumps[seam - 2 : seam + 2].max() <= max(typical, 1e-3) * 1.5, "a click at a seam"


def test_first_piece_waits_for_the_too_short_guard(engine, reference_wav, single_thread, monkeypatch):
    decoded = []
    original = speak.PieceDecoder.piece
    monkeypatch.setattr(speak.PieceDecoder, "piece", lambda self, tokens, final: decoded.append(
        (len(tokens), final)) or original(self, tokens, final))
    stream = engine.stream(_request(reference_wav, streaming="token"))
    list(stream)
    first_tokens, final = decoded[0]
    assert final or first_tokens >= speak.FIRST_PIECE_TOKENS + speak.LOOKAHEAD_FRAMES // 2


@pytest.fixture(scope="module")
def never_stops_engine(tiny_checkpoints, tmp_path_factory):
    """An official-format T2S checkpoint whose EOS logit always loses: it talks until something stops it."""
    checkpoint = torch.load(tiny_checkpoints / "v2" / "t2s.ckpt", map_location="cpu", weights_only=True)
    weights = checkpoint["weight"]
    last = checkpoint["config"]["model"]["n_layer"] - 1
    bias = torch.linspace(0.5, 1.5, weights[f"model.h.layers.{last}.norm2.bias"].numel())
    weights[f"model.h.layers.{last}.norm2.weight"].zero_()
    weights[f"model.h.layers.{last}.norm2.bias"].copy_(bias.half())
    weights["model.ar_predict_layer.weight"][EOS] = -bias.half()
    path = tmp_path_factory.mktemp("never_stops") / "never_stops.ckpt"
    torch.save(checkpoint, path)
    return Engine(_paths(tiny_checkpoints, path))


def test_runaway_output_is_rerolled_then_refused(never_stops_engine, reference_wav, single_thread, monkeypatch):
    models = never_stops_engine.model_set()
    decoded = []
    monkeypatch.setattr(models.synthesizer.sovits, "decode", lambda *args, **kwargs: decoded.append(args))
    runs = []
    original = models.t2s.stream

    def recorded_stream(inputs, sampling, stop=None, max_rows=None):
        def reading():
            for row in inputs:
                runs.append(row)
                yield row

        return original(reading(), sampling, stop, max_rows)

    monkeypatch.setattr(models.t2s, "stream", recorded_stream)
    with pytest.raises(SynthesisError, match="kept talking past"):
        never_stops_engine.synthesize_phonemized(reference_wav, REFERENCE_RUNS, SHORT_TARGET, InferenceSettings(seed=2))
    assert len(runs) == speak.MAX_ATTEMPTS and len({run.seed for run in runs}) == speak.MAX_ATTEMPTS
    spoken_phones = 4  # HH AH0 L OW1
    assert runs[0].max_tokens == speak.MAX_TOKENS_PER_PHONE * spoken_phones + speak.RUNAWAY_SLACK_TOKENS
    assert decoded == [], "nothing of a runaway is decoded"


def test_a_set_cancel_event_stops_the_stream(engine, reference_wav, single_thread):
    cancel = threading.Event()
    stream = engine.stream(_request(reference_wav, streaming="token"), cancel=cancel)
    chunks = iter(stream)
    next(chunks)
    cancel.set()
    with pytest.raises(SynthesisCancelled):
        next(chunks)


def test_a_stop_while_the_features_are_made_runs_no_prefill(engine, reference_wav, single_thread, monkeypatch):
    """The T2S thread checks for a stop between the BERT features and the prefill (seconds for a batch on a
    CPU), so a stopped stream leaves no work behind that slows the next request."""
    models = engine.model_set()
    cancel = threading.Event()
    original_features, original_prefill = models.features.bert_features_many, models.t2s.prefill
    prefills = []

    def features_then_stop(sentences):
        features = original_features(sentences)
        if threading.current_thread() is not threading.main_thread():  # the target's, made in the T2S thread
            cancel.set()
        return features

    monkeypatch.setattr(models.features, "bert_features_many", features_then_stop)
    monkeypatch.setattr(models.t2s, "prefill", lambda *args: prefills.append(args) or original_prefill(*args))
    stream = engine.stream(_request(reference_wav), cancel=cancel)
    with pytest.raises(SynthesisCancelled):
        stream.result()
    assert cancel.is_set() and prefills == []


@pytest.mark.parametrize("leave", ["break", "drop"])
def test_a_stream_left_early_stops_its_t2s_at_once(engine, reference_wav, single_thread, monkeypatch, leave):
    """A loop over the stream left early (a break, or an error in its body) and a stream dropped unfinished both end
    the T2S thread at once, without waiting for a garbage collection (switched off here): nobody will ask for the
    rest, and it would take the CPU from the next request."""
    models = engine.model_set()
    original_stream = models.t2s.stream

    def slow_stream(inputs, sampling, stop=None, max_rows=None):  # the tiny model is quick: T2S must still be at work
        for step in original_stream(inputs, sampling, stop, max_rows):
            time.sleep(0.005)
            yield step

    monkeypatch.setattr(models.t2s, "stream", slow_stream)
    request = replace(_request(reference_wav, batch_size=2), target_text="今天天气很好。我们一起去公园。" * 8)
    before = _t2s_threads()
    gc.disable()
    try:
        stream = engine.stream(request)
        if leave == "break":
            for chunk in stream:
                running = _t2s_threads() - before
                break
        else:
            chunks = iter(stream)
            next(chunks)
            running = _t2s_threads() - before
            del chunks, stream
        assert running, "T2S was already done: the test needs more sentences"
        for thread in running:
            thread.join(2)
        assert not any(thread.is_alive() for thread in running)
    finally:
        gc.enable()


def _t2s_threads() -> set[threading.Thread]:
    return {thread for thread in threading.enumerate() if thread.name == "t2s-ahead"}


def test_clip_warnings_belong_to_each_request_not_the_cache(engine, tmp_path, single_thread):
    """A 14 s clip is trimmed (with a note); the same speech uploaded already cut to that window shares the cached
    reference work but gets no trim note, and the long clip's note names its own length."""
    long_clip = np.concatenate([_speech_like(9.0, seed=4), np.zeros(16000, np.float32), _speech_like(4.5, seed=5)])
    long_path = tmp_path / "long.wav"
    soundfile.write(long_path, long_clip, 32000)
    first = engine.stream(_request(long_path))
    assert any("was 14.0 s long" in warning for warning in first.warnings)
    first.result()  # the reference is cached once the stream has worked out its timbre
    from gpt_sovits import audio, validation

    clip = audio.load_audio(long_path)
    window, _ = validation.check_reference_audio(clip.mono(), clip.sample_rate)  # the samples the engine used
    short_path = tmp_path / "short.wav"
    soundfile.write(short_path, window, 32000, subtype="FLOAT")
    second = engine.stream(_request(short_path))
    assert second.reference_cache_hit
    assert not [warning for warning in second.warnings if "long; used" in warning]
    again = engine.stream(_request(long_path))
    assert again.reference_cache_hit and any("was 14.0 s long" in warning for warning in again.warnings)


def test_several_timbre_clips_are_averaged(engine, reference_wav, tmp_path, single_thread):
    from gpt_sovits.engine.reference import compute_reference, load_reference_clips

    other = tmp_path / "other.wav"
    soundfile.write(other, _speech_like(5.0, f0=210.0, seed=9), 32000)
    models = engine.model_set()
    alone = [compute_reference(models, load_reference_clips(path, ()), None).conditioning.get(models.synthesizer)
             for path in (reference_wav, other)]  # fmt: skip
    both = compute_reference(models, load_reference_clips(reference_wav, (other, reference_wav)), None).conditioning.get(
        models.synthesizer)
    torch.testing.assert_close(both, (alone[1] + alone[0]) / 2, atol=1e-6, rtol=0)


@pytest.mark.parametrize("streaming", ["sentence", "token"])
def test_the_timbre_is_worked_out_while_t2s_makes_the_first_sentence(engine, tmp_path, single_thread, monkeypatch,
                                                                     streaming):  # fmt: skip
    """Only SoVITS needs the timbre (for v2Pro the speaker encoder: about as long as the first sentence's T2S), so it
    is worked out while T2S runs (token streaming: in a thread of its own), and the reference is cached once it is
    complete."""
    models = engine.model_set()
    t2s_started, prepared = threading.Event(), []
    original_stream, original_prepare = models.t2s.stream, models.synthesizer.prepare

    def recorded_stream(*args, **kwargs):
        t2s_started.set()
        return original_stream(*args, **kwargs)

    def recorded_prepare(*args):
        prepared.append(t2s_started.wait(10))  # the old order never started T2S before this returned
        return original_prepare(*args)

    monkeypatch.setattr(models.t2s, "stream", recorded_stream)
    monkeypatch.setattr(models.synthesizer, "prepare", recorded_prepare)
    clip = tmp_path / "fresh.wav"
    soundfile.write(clip, _speech_like(4.0, f0=180.0, seed={"sentence": 12, "token": 14}[streaming]), 32000)  # new to the cache
    left_unread = engine.stream(_request(clip, streaming=streaming))
    left_unread.close()  # before the timbre was needed: nothing half-made (holding the clips) stays in the cache
    assert prepared == []
    first = engine.synthesize(_request(clip, streaming=streaming))
    assert prepared == [True] and not first.reference_cache_hit
    again = engine.synthesize(_request(clip, streaming=streaming))
    assert prepared == [True] and again.reference_cache_hit and np.array_equal(again.audio, first.audio)


@pytest.mark.parametrize("streaming", ["sentence", "token"])
def test_bert_works_beside_hubert_for_a_new_voice(engine, tmp_path, single_thread, monkeypatch, streaming):
    """BERT at a sentence mostly reads its weights while HuBERT keeps the arithmetic busy, so the transcript's
    features and the first sentence's are worked out in threads of their own while HuBERT hears a new clip; each
    is what the same call gives in the caller's thread."""
    features = engine.model_set().features
    original_bert, original_hubert = features.bert_features, features.hubert_features
    calls, berts_started = [], threading.Semaphore(0)

    def recorded_bert(runs):
        berts_started.release()
        calls.append((threading.current_thread().name, runs, original_bert(runs)))
        return calls[-1][2]

    def recorded_hubert(*args):
        assert berts_started.acquire(timeout=10) and berts_started.acquire(timeout=10)  # both BERTs under way
        return original_hubert(*args)

    monkeypatch.setattr(features, "bert_features", recorded_bert)
    monkeypatch.setattr(features, "hubert_features", recorded_hubert)
    clip = tmp_path / "fresh.wav"
    soundfile.write(clip, _speech_like(4.0, f0=190.0, seed={"sentence": 15, "token": 16}[streaming]), 32000)
    assert engine.synthesize(_request(clip, streaming=streaming)).sentences
    threads = [name for name, _, _ in calls]
    assert sorted(threads[:2]) == ["first-sentence-bert", "reference-bert"]
    assert all(torch.equal(made, original_bert(runs)) for _, runs, made in calls)


@pytest.mark.parametrize("streaming", ["sentence", "token"])
def test_a_first_sentence_bert_that_fails_in_its_thread_is_raised_by_the_stream(engine, reference_wav, single_thread,
                                                                               monkeypatch, streaming):  # fmt: skip
    features = engine.model_set().features
    original_bert, thread_errors = features.bert_features, []

    def failing_bert(runs):
        if threading.current_thread().name == "first-sentence-bert":
            raise SynthesisError(Message("BERT could not read the first sentence."))
        return original_bert(runs)

    monkeypatch.setattr(features, "bert_features", failing_bert)
    monkeypatch.setattr(threading, "excepthook", thread_errors.append)
    with pytest.raises(SynthesisError, match="could not read the first sentence"):
        engine.synthesize(_request(reference_wav, streaming=streaming))
    assert thread_errors == []


def test_a_timbre_that_fails_in_its_thread_is_reported_by_the_token_stream(engine, tmp_path, single_thread,
                                                                          monkeypatch):  # fmt: skip
    """Token streaming works the timbre out in a thread of its own: its failure must reach the listener as the
    stream's own error (no thread traceback on the console), and nothing is cached."""
    models = engine.model_set()
    calls, thread_errors = [], []

    def failing_prepare(*args):
        calls.append(threading.current_thread().name)
        raise SynthesisError(Message("The timbre could not be worked out."))

    monkeypatch.setattr(models.synthesizer, "prepare", failing_prepare)
    monkeypatch.setattr(threading, "excepthook", thread_errors.append)
    clip = tmp_path / "fresh.wav"
    soundfile.write(clip, _speech_like(4.0, f0=170.0, seed=13), 32000)
    with pytest.raises(SynthesisError, match="timbre could not"):
        engine.synthesize(_request(clip, streaming="token"))
    assert thread_errors == [] and calls[0] == "timbre" and len(calls) == 2  # tried again by the first piece
    monkeypatch.undo()
    assert not engine.synthesize(_request(clip, streaming="token")).reference_cache_hit


def test_a_finished_or_abandoned_stream_hands_free_memory_back(engine, reference_wav, single_thread, monkeypatch):
    """glibc keeps freed pages, and peak RSS grew request after request (3.23 -> 3.39 GiB over three v2 paragraphs
    at batch 8 in one process); each stream trims the heap at its end."""
    import gpt_sovits.engine

    trims = []
    monkeypatch.setattr(gpt_sovits.engine, "return_free_memory", lambda: trims.append(True))
    engine.synthesize(_request(reference_wav))
    assert trims == [True]
    for _ in engine.stream(_request(reference_wav)):
        break
    assert trims == [True, True]
    assert gpt_sovits.engine._MALLOC_TRIM is not None, "this Linux's glibc has malloc_trim"


def test_each_request_gets_the_models_it_names(engine, tiny_checkpoints, reference_wav, single_thread):
    default = engine.synthesize(_request(reference_wav))
    v1 = ModelChoice(t2s=tiny_checkpoints / "v1" / "t2s.ckpt", sovits=tiny_checkpoints / "v1" / "sovits.pth")
    from dataclasses import replace

    other = engine.synthesize(replace(_request(reference_wav), models=v1))
    assert (default.model.model_version, other.model.model_version) == ("v2", "v1")
    assert not other.reference_cache_hit, "another SoVITS file never reuses a prepared reference"
    again = engine.synthesize(_request(reference_wav))
    assert again.model.model_version == "v2" and np.array_equal(again.audio, default.audio)


@pytest.mark.parametrize("top_k", [1, 15])
def test_batched_sentences_sound_exactly_as_one_at_a_time(engine, reference_wav, single_thread, top_k):
    """Each sentence has its own seed and its own row: batching changes the speed, never the audio."""
    one = engine.synthesize(_request(reference_wav, batch_size=1, top_k=top_k))
    batched = engine.synthesize(_request(reference_wav, batch_size=4, top_k=top_k))
    assert len(one.sentences) == 4
    assert [s.tokens.tolist() for s in one.sentences] == [s.tokens.tolist() for s in batched.sentences]
    assert np.array_equal(one.audio, batched.audio)


def test_a_later_sentence_ready_first_is_decoded_while_the_earlier_one_is_made(engine, reference_wav, single_thread,
                                                                               monkeypatch):
    """The rows of a T2S batch finish in any order: SoVITS decodes whichever later sentence is ready instead of
    waiting for the next in order, and the chunks still come in order, with the same audio."""
    expected = engine.synthesize(_request(reference_wav))
    original_generate, original_decode = speak.generate_tokens, speak.decode
    decoded_sentences, decoded_events = [], {index: threading.Event() for index in range(4)}

    def tokens_in_the_order_0_3_2_1(models, reference, sentences, settings, timer, cancel=None, first_chunk_out=None,
                                    first_target_bert=None):  # fmt: skip
        results = dict(original_generate(models, reference, sentences, settings, timer, cancel, None,
                                         first_target_bert))  # all, at once  # fmt: skip
        yield 0, results[0]
        yield 3, results[3]
        assert decoded_events[3].wait(30), "sentence 3 was not decoded while sentence 1 was still missing"
        yield 2, results[2]
        assert decoded_events[2].wait(30)
        yield 1, results[1]

    def recorded_decode(models, reference, sentence, tokens, settings):
        decoded_sentences.append(sentence.index)
        decoded_events[sentence.index].set()
        return original_decode(models, reference, sentence, tokens, settings)

    monkeypatch.setattr(speak, "generate_tokens", tokens_in_the_order_0_3_2_1)
    monkeypatch.setattr(speak, "decode", recorded_decode)
    stream = engine.stream(_request(reference_wav))
    chunks = list(stream)
    assert decoded_sentences == [0, 3, 2, 1]
    assert [chunk.sentence_index for chunk in chunks] == [0, 1, 2, 3]
    assert np.array_equal(stream.result().audio, expected.audio)


def test_the_next_batch_waits_until_the_first_chunk_is_out(engine, reference_wav, single_thread, monkeypatch):
    """The first sentence's audio and the next batch's BERT and prefill all need the CPU's arithmetic: the first
    audio comes sooner when T2S waits for it (the first sentence runs alone, so nothing else is held up)."""
    models = engine.model_set()
    events = []
    original_features, original_decode = models.features.bert_features_many, speak.decode

    def recorded_features(sentences):
        events.append(f"bert x{len(sentences)}")
        return original_features(sentences)

    def recorded_decode(models, reference, sentence, tokens, settings):
        audio = original_decode(models, reference, sentence, tokens, settings)
        time.sleep(0.2)  # a real decode takes a while: time for T2S to start what it should not
        events.append(f"decoded {sentence.index}")
        return audio

    monkeypatch.setattr(models.features, "bert_features_many", recorded_features)
    monkeypatch.setattr(speak, "decode", recorded_decode)
    engine.synthesize(_request(reference_wav, batch_size=4))
    first_decoded = events.index("decoded 0")
    assert events[first_decoded - 1 : first_decoded + 2] == ["bert x1", "decoded 0", "bert x3"], events


def test_a_rerolled_first_sentence_holds_nothing_up(engine, reference_wav, single_thread, monkeypatch):
    """The next batch waits for the first sentence's audio only once that sentence is spoken: while it is being
    re-rolled (with the sentences after it, in the next batch) nothing waits for it."""
    monkeypatch.setattr(speak.TargetSentence, "token_range", property(lambda sentence: (10**6, 1500)))  # all too short
    outcome = []
    worker = threading.Thread(target=lambda: outcome.append(_refusal(engine, reference_wav)), daemon=True)
    worker.start()
    worker.join(120)
    assert not worker.is_alive(), "the stream hung"
    assert "kept stopping" in outcome[0] and outcome[0].startswith("Sentence 1 ('今天天气很好，"), outcome[0]


def _refusal(engine, reference_wav) -> str:
    try:
        engine.synthesize(_request(reference_wav, batch_size=4))
    except SynthesisError as error:
        return str(error)
    return "no error"


def test_a_stage_timed_inside_another_counts_once(monkeypatch):
    """The engine's stage seconds (the benchmarks' per-stage figures): a stage opened inside another in the same
    thread is taken out of the outer one, so the stages add up to the time spent; another thread's stages stay its
    own even while this thread has one open."""
    from gpt_sovits.engine import Timer

    ticks = iter([0.0, 1.0, 3.0, 10.0, 100.0, 102.0])  # t2s opens, bert in it (2 s), t2s closes; then sovits (2 s)
    this_thread, real_clock = threading.get_ident(), time.perf_counter
    monkeypatch.setattr("gpt_sovits.engine.time.perf_counter",
                        lambda: next(ticks) if threading.get_ident() == this_thread else real_clock())
    timer = Timer()
    with timer("t2s"):
        with timer("bert"):
            pass
    with timer("sovits"):
        pass
    assert timer.seconds == {"bert": 2.0, "t2s": 8.0, "sovits": 2.0}

    monkeypatch.undo()
    timer, inner_done = Timer(), threading.Event()

    def other_thread():
        with timer("sovits"):
            time.sleep(0.05)
        inner_done.set()

    with timer("t2s"):
        worker = threading.Thread(target=other_thread)
        worker.start()
        inner_done.wait(5)
        worker.join()
    assert timer.seconds["sovits"] >= 0.05 and timer.seconds["t2s"] >= 0.05  # nothing taken from t2s
