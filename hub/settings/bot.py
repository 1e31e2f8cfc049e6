"""Settings: the bot and its trainers' loop. Part of ``hub.config.Settings``."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field


class BotSettings(BaseModel):
    """The Rasa bot in front of every conversation (off while ``rasa_url`` is unset)."""

    rasa_url: str | None = Field(None, description="Rasa server with --enable-api, e.g. http://127.0.0.1:5005.")
    timeout_s: float = Field(3.0, gt=0, description="A bot turn slower than this hands over (bot_unavailable).")
    confidence_threshold: float = Field(
        0.5, ge=0, le=1, description="Below this intent confidence: hand over (low_confidence), unless the serving "
        "model (the active one, else the shipped one's stored evaluation) carries its own out-of-scope threshold "
        "(then that decides: out_of_scope).")
    max_fallbacks: int = Field(2, ge=1, description="Consecutive fallback turns before handing over (only while no "
                               "model threshold decides).")
    human_intents: list[str] = Field(["talk_to_human"], description="Intents meaning 'a human, please'.")
    human_only_intents: list[str] = Field(
        ["complaint", "report_outage"], description="Intents only agents handle (handover by policy).")
    fallback_intents: list[str] = Field(["nlu_fallback", "out_of_scope"], description="Intents the bot did not get.")
    intent_queues: dict[str, str] = Field(
        {"check_bill": "billing", "pay_bill": "billing", "tariffs": "billing", "report_outage": "outages",
         "outage_status": "outages", "complaint": "complaints"},
        description="Queue of a handed-over conversation by its last intent (others: the web-chat default queue).")
    idle_resolve_s: float = Field(
        1800.0, ge=0, description="A conversation the bot holds (not a call) in which nobody wrote for this long is "
        "resolved by the bot: contained (0: never; ADR 0079).")
    idle_poll_s: float = Field(60.0, gt=0, description="How often one process looks for such conversations.")


class TrainingSettings(BaseModel):
    """The bot trainer's loop: curated data in MongoDB, models trained with the Rasa CLI of Rasa's own venv.

    Relative paths are relative to the checkout (the folder holding ``bot/`` and ``scripts/``)."""

    rasa_venv: Path = Field(Path(".rasa-venv"), description="Rasa's own venv (scripts/rasa.sh install).")
    project_dir: Path = Field(Path("bot/rasa_project"),
                              description="The shipped Rasa project: template of every training, and the seed data.")
    models_dir: Path = Field(
        Path("bot/rasa_project/models"),
        description="Trained models, and active.tar.gz: the activated model, which scripts/rasa.sh start loads.")
    work_dir: Path = Field(Path("bot/rasa_project/run/training"),
                           description="Scratch folder of a training run (removed after a successful run).")
    heldout: Path = Field(Path("bot/rasa_project/data/heldout.csv"),
                          description="Held-out text,intent CSV the console evaluates models on.")
    epochs: int | None = Field(None, ge=1, description="Overrides DIETClassifier epochs of config.yml (fewer: faster).")
    timeout_s: float = Field(3600.0, gt=0, description="A training running longer is stopped and marked failed.")
    review_below: float = Field(0.7, ge=0, le=1, description="Bot turns under this confidence are listed for review.")
    activate_timeout_s: float = Field(180.0, gt=0, description="How long Rasa may take to load a model (PUT /model).")
    keep_models: int = Field(5, ge=1, description="Trained models (ready, not active) whose files are kept; older "
                             "ones' files are removed after each training, their figures kept (ADR 0080).")
