"""Voice: Asterisk AMI/FastAGI, recordings, STT/TTS and QA (see the voice issue)."""
