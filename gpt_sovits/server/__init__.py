"""The server: the HTTP API (OpenAI, XTTS and api_v2 shapes) and the Gradio UI in one FastAPI app.

    launch.py      options, building the app (`create`), serving it (`main`, `Running`)
    speech.py      what the dialects share: references, settings, running a synthesis, errors -> statuses
    openai_api.py  /v1/audio/speech, /v1/models, /v1/audio/voices
    xtts_api.py    /speakers, /tts_to_audio/, /tts_stream/, /set_tts_settings (SillyTavern)
    api_v2.py      /tts, /set_gpt_weights, /set_sovits_weights (official api_v2 names and defaults)
    security.py    API key, the bind rule, operator-only actions, CORS (the gate and time budget: gpt_sovits/service.py)
    mcp_tools.py   the MCP tools (speak, list_voices)
"""
