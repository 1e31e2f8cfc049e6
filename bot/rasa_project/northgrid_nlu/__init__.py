"""The project's own Rasa components (importable with bot/rasa_project on PYTHONPATH; scripts/rasa.sh,
the hub's training and predict.py put it there)."""
import logging


def follow_rasa_log_level() -> None:
    """Lets this package's log lines through as Rasa's own: Rasa sets the level (``LOG_LEVEL``) of its
    ``rasa`` logger only, so without this the components' INFO lines (their progress) would be dropped."""
    logging.getLogger(__name__).setLevel(logging.getLogger("rasa").getEffectiveLevel())
