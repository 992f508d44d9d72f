"""The neural models: T2S transformer, SoVITS synthesizer, HuBERT/BERT feature models, speaker encoder."""
