"""Every knob of one synthesis, in one typed, validated object.

The defaults are the official web UI's, so the same request gives the same kind of result here as there.
The UI sliders, the CLI flags and the HTTP API all build an `InferenceSettings`; nothing else carries knobs.
"""

from dataclasses import dataclass, fields

from gpt_sovits.errors import GptSovitsError
from gpt_sovits.messages import Message, joined

# Official cutting methods (see gpt_sovits.text.cutting): name -> what the UI shows.
CUT_METHODS = ("cut0", "cut1", "cut2", "cut3", "cut4", "cut5")
# How audio is handed out while it is made (see gpt_sovits.engine): "sentence" gives each sentence whole, exactly
# the audio of a non-streamed run; "token" gives pieces while the tokens come (first sound sooner, not bit-exact).
STREAMING_LEVELS = ("sentence", "token")
# Largest fixed seed: the official app draws seeds below 2**32, and the engine derives per-sentence and retry
# seeds by adding to it, which must stay within torch's 64-bit seed range.
MAX_SEED = 2**32 - 1


class SettingsError(GptSovitsError):
    """A setting outside its allowed range."""


def seed_from_user(value) -> int | None:
    """The seed as a person gives it in the UI or CLI: empty or negative (the UI's -1) means a fresh random seed."""
    return None if value is None or value < 0 else int(value)


@dataclass(frozen=True)
class InferenceSettings:
    top_k: int = 15  # official web UI default (the function signature says 20, the UI wins)
    top_p: float = 1.0
    temperature: float = 1.0
    repetition_penalty: float = 1.35
    speed: float = 1.0
    pause_seconds: float = 0.3  # silence appended after every sentence
    noise_scale: float = 0.5  # SoVITS decode noise; the official callers always use 0.5
    seed: int | None = None  # None: a fresh random seed, reported back in the result
    cut_method: str = "cut1"  # official default: every 4 sentences
    streaming: str = "sentence"  # one of STREAMING_LEVELS
    batch_size: int = 8  # sentences whose tokens T2S makes together (the result does not depend on it)
    sample_steps: int | None = None  # v3/v4: flow-matching steps; None = the model's default (v3: 32, v4: 8)
    super_resolution: bool = False  # v3: AP-BWE from 24 to 48 kHz (needs its model in the weights folder)

    # (low, high) inclusive limits; the UI sliders use the same numbers.
    LIMITS = {
        "top_k": (1, 100),
        "top_p": (0.05, 1.0),
        "temperature": (0.05, 2.0),
        "repetition_penalty": (1.0, 2.0),
        "speed": (0.6, 1.65),
        "pause_seconds": (0.0, 2.0),
        "noise_scale": (0.0, 1.0),
        "batch_size": (1, 16),
        "sample_steps": (1, 128),  # None (the model's default) is allowed too
    }

    def __post_init__(self):
        for field in fields(self):
            value = getattr(self, field.name)
            if field.name == "sample_steps" and value is None:
                continue
            if field.name in self.LIMITS:
                low, high = self.LIMITS[field.name]
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise SettingsError(Message("Setting '{name}' must be a number, got {value!r}.", name=field.name, value=value))
                if not low <= value <= high:
                    raise SettingsError(Message(
                        "Setting '{name}' must be between {low} and {high}, got {value}.",
                        name=field.name, low=low, high=high, value=value,
                    ))  # fmt: skip
        for name in ("top_k", "batch_size", "sample_steps"):
            if getattr(self, name) is not None and getattr(self, name) != int(getattr(self, name)):
                raise SettingsError(
                    Message("Setting '{name}' must be a whole number, got {value}.", name=name, value=getattr(self, name))
                )
        if self.seed is not None and (
            isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed <= MAX_SEED
        ):
            raise SettingsError(Message(
                "Setting 'seed' must be a whole number from 0 to {maximum} (or empty for random), got {value!r}.",
                maximum=MAX_SEED, value=self.seed,
            ))
        if not isinstance(self.super_resolution, bool):
            raise SettingsError(Message(
                "Setting '{name}' must be true or false, got {value!r}.", name="super_resolution", value=self.super_resolution
            ))
        if self.streaming not in STREAMING_LEVELS:
            raise SettingsError(Message(
                "Unknown streaming level {level!r}; choose one of {choices}.",
                level=self.streaming, choices=joined(STREAMING_LEVELS),
            ))
        if self.cut_method not in CUT_METHODS:
            raise SettingsError(Message(
                "Unknown cutting method {method!r}; choose one of {choices}.",
                method=self.cut_method, choices=joined(CUT_METHODS),
            ))
