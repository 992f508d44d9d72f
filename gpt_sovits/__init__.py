"""GPT-SoVITS-compatible voice cloning: text front end, models and a cached inference engine."""

__version__ = "0.1.0"
