"""Subtitles of a result on the page: offered as SRT and WebVTT files, and shown under the player.

The synthesis event returns the files and the cues (a hidden JSON output, which API callers get too); a follow-up
event puts the cues on the player, so the synthesis' own audio output stays a plain file for API callers.
"""

from pathlib import Path

import gradio as gr

from gpt_sovits.subtitles import subtitle_cues, write_subtitles


def subtitle_outputs(result, audio_path: str) -> tuple[list[str], list[dict]]:
    """(the .srt and .vtt files, written beside the audio file; the cues as the player takes them)."""
    cues = subtitle_cues(result.sentences)
    files = []
    for suffix in (".srt", ".vtt"):
        path = Path(audio_path).with_suffix(suffix)
        write_subtitles(cues, path)
        files.append(str(path))
    return files, [{"text": cue.text, "timestamp": [cue.start_seconds, cue.end_seconds]} for cue in cues]


def show_subtitles(cues):
    """The follow-up event: the result player with these cues (none after a failed run)."""
    return gr.Audio(subtitles=cues or None)
