"""The project's own Rasa components (importable with bot/rasa_project on PYTHONPATH; scripts/rasa.sh,
the hub's training and predict.py put it there)."""
