"""Pure parts of the trainer's loop: CSV import rules, Rasa YAML export, training progress."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from bot.evaluation import read_csv
from bot.training import rasa_yaml
from bot.training.csvfile import CsvProblem, parse_examples_csv, require_valid
from bot.training.labels import SAFE_NAME, intent_name, label_names
from bot.training.progress import Progress, advance, split_output
from bot.training.text import key_of, language_of

PROJECT = Path(__file__).resolve().parents[2] / "bot" / "rasa_project"


# --- CSV ---------------------------------------------------------------------------------------------

def test_csv_rows_are_cleaned_and_deduplicated_on_normalised_text() -> None:
    parsed = parse_examples_csv("text,intent\nHow much do I owe?,check_bill\n"
                                "  how much   do I OWE? ,check_bill\n\"停电了,怎么办\",report_outage\n\n")
    assert [(r.text, r.intent, r.line) for r in parsed.rows] == [
        ("How much do I owe?", "check_bill", 2), ("停电了,怎么办", "report_outage", 4)]
    assert parsed.total == 3 and parsed.duplicates == 1 and parsed.error_count == 0
    assert parsed.intents == {"check_bill", "report_outage"}


def test_csv_header_may_have_other_columns_in_any_order_and_a_bom() -> None:
    parsed = require_valid(parse_examples_csv("\ufeffid,Intent,TEXT\n1,greet,hello\n"))
    assert [(r.text, r.intent) for r in parsed.rows] == [("hello", "greet")]


@pytest.mark.parametrize("header", ["text,category", "Label,Text", "\ufefftext,intent,category"])
def test_the_label_column_may_be_named_as_public_intent_sets_name_it(header: str) -> None:
    """BANKING77 ships ``text,category``; ``intent`` wins when a file has both."""
    first, second = ("hello", "greet") if header.lower().lstrip("\ufeff").startswith("text") else ("greet", "hello")
    extra = ",other" if header.count(",") == 2 else ""
    parsed = require_valid(parse_examples_csv(f"{header}\n{first},{second}{extra}\n"))
    assert [(r.text, r.intent) for r in parsed.rows] == [("hello", "greet")]
    assert [(r.text, r.intent) for r in read_csv(f"{header}\n{first},{second}{extra}\n")] == [("hello", "greet")]


@pytest.mark.parametrize(("data", "message"), [
    ("", "line 1: the file is empty"),
    ("sentence,label\nhi,greet\n", "line 1: the header must name the columns text and intent"),
    ("text,topic\nhi,greet\n", "line 1: the header must name the columns text and intent"),
    ("text,intent\nhi\n", "line 2: expected 2 columns"),
    ("text,intent\n,greet\n", "line 2: empty text"),
    ("text,intent\nhi,\n", "line 2: empty intent"),
    ("text,intent\nhi," + "x" * 101 + "\n", "line 2: intent longer than 100"),
    ("text,intent\n" + "a" * 501 + ",greet\n", "line 2: text longer than 500"),
    ("text,intent\nhi,greet\nHI,goodbye\n", "every text is labelled two ways (1 conflict(s))"),
    ("text,intent\n", "the file has a header but no examples"),
])
def test_bad_csv_rows_give_errors_that_name_the_line(data: str, message: str) -> None:
    with pytest.raises(CsvProblem) as caught:
        require_valid(parse_examples_csv(data))
    assert message in str(caught.value)


def test_any_label_is_kept_and_mapped_to_a_stable_safe_intent_name() -> None:
    parsed = require_valid(parse_examples_csv(
        "text,intent\nmy card payment was reverted,reverted_card_payment?\nrefund not showing,Refund not showing up\n"
        "电费怎么交,缴费 问题\nhi,greet\nwhat is 2+2,/maths\n"))
    names = {row.text: row.intent for row in parsed.rows}
    assert names["hi"] == "greet" and [r.label for r in parsed.rows if r.text == "hi"] == [""]
    assert names["my card payment was reverted"].startswith("reverted_card_payment__")
    assert names["refund not showing"].startswith("refund_not_showing_up__")
    assert names["电费怎么交"].startswith("intent__") and names["what is 2+2"].startswith("maths__")
    assert all(SAFE_NAME.match(name) for name in names.values())
    assert dict(parsed.labels) == {r.label: r.intent for r in parsed.rows if r.label}
    assert len(parsed.labels) == 4
    # Stable (a hash of the label, not an order or a counter) and distinct for labels differing in punctuation.
    assert intent_name("reverted_card_payment?") == names["my card payment was reverted"]
    assert intent_name("reverted_card_payment!") != intent_name("reverted_card_payment?")
    assert intent_name("缴费 问题") != intent_name("停电 问题") and intent_name(" a  b ") == intent_name("a b")
    with pytest.raises(ValueError, match="would share"):
        label_names(["x?", intent_name("x?")])


def test_texts_labelled_two_ways_are_skipped_and_listed_the_rest_imports() -> None:
    rows = "".join(f"question {i},topic_{i % 3}\n" for i in range(20))
    parsed = require_valid(parse_examples_csv(f"text,intent\n{rows}Question 4,topic_2\nquestion 5,topic_2\n"
                                              "QUESTION 4,topic_0\n"))
    assert len(parsed.rows) == 19 and parsed.conflict_rows == 3 and parsed.duplicates == 1
    assert [c.describe() for c in parsed.conflicts] == [
        "lines 6, 22, 24: 'question 4' is labelled 'topic_1' and 'topic_2' and 'topic_0'"]


def test_bad_rows_refuse_the_file_unless_skipped_and_are_listed_either_way() -> None:
    parsed = parse_examples_csv("text,intent\nfine,greet\n,greet\nalso fine,greet\nno label,\n")
    with pytest.raises(CsvProblem, match="import the other rows with --skip-bad"):
        require_valid(parsed)
    kept = require_valid(parsed, skip_bad=True)
    assert len(kept.rows) == 2 and kept.errors == ("line 3: empty text", "line 5: empty intent")
    with pytest.raises(CsvProblem, match="no importable examples"):
        require_valid(parse_examples_csv("text,intent\n,greet\n"), skip_bad=True)


def test_csv_errors_are_all_counted_but_only_the_first_listed() -> None:
    data = "text,intent\n" + "".join(f"row {i},\n" for i in range(120)) + "fine,greet\n"
    parsed = parse_examples_csv(data)
    assert parsed.error_count == 120 and len(parsed.errors) == 50 and len(parsed.rows) == 1
    assert "... and 70 more" in str(CsvProblem(parsed.errors, parsed.error_count))


def test_line_numbers_follow_quoted_multi_line_fields() -> None:
    parsed = parse_examples_csv('text,intent\n"two\nlines",greet\nok,\n')
    assert parsed.rows[0].text == "two lines"
    assert parsed.errors == ("line 4: empty intent",)


def test_key_and_language() -> None:
    assert key_of("My account [3100123456](account_number)  IS ") == "my account 3100123456 is"
    assert key_of("\uff21\uff22\uff23") == "abc"  # NFKC: full-width letters
    assert language_of("我家停电了") == "zh" and language_of("power cut") == "en"


# --- Rasa YAML ---------------------------------------------------------------------------------------

def test_nlu_export_round_trips_through_a_yaml_parser() -> None:
    pairs = [("how much do I owe?", "check_bill"), ("户号[3100123456](account_number)查电费", "check_bill"),
             ("- starts with a dash: and colons", "odd"), ("quotes ' and \" and # hash", "odd"), ("你好", "greet")]
    text = rasa_yaml.nlu_yaml(pairs, [{"regex": "account_number", "examples": "- \\d{10}\n"}])
    assert "examples: |" in text  # literal blocks, as Rasa's own files
    assert sorted(rasa_yaml.read_nlu_examples(text)) == sorted(pairs)
    document = yaml.safe_load(text)
    assert document["version"] == "3.1"
    assert [b["intent"] for b in document["nlu"] if "intent" in b] == ["check_bill", "greet", "odd"]
    assert rasa_yaml.other_nlu_blocks(text) == [{"regex": "account_number", "examples": "- \\d{10}\n"}]


def shipped() -> rasa_yaml.Project:
    data = PROJECT / "data"
    return rasa_yaml.Project(config=(PROJECT / "config.yml").read_text(), domain=(PROJECT / "domain.yml").read_text(),
                             nlu=((data / "nlu.yml").read_text(),), rules=(data / "rules.yml").read_text(),
                             stories=(data / "stories.yml").read_text())


def test_training_files_list_every_curated_intent_and_keep_the_shipped_responses() -> None:
    project = shipped()
    seed = rasa_yaml.read_nlu_examples(project.nlu[0])
    assert len(seed) > 1000 and ("hi", "greet") in seed
    curated = [*seed, ("do you buy back solar power", "solar_feed_in"), ("solar panel export rates", "solar_feed_in")]
    files = rasa_yaml.training_files(project, curated, epochs=5)

    domain = yaml.safe_load(files.domain)
    assert "solar_feed_in" in domain["intents"] and "pay_online" in domain["intents"]  # shipped ones kept
    assert domain["responses"]["utter_check_bill"] == yaml.safe_load(project.domain)["responses"]["utter_check_bill"]
    assert files.handover_intents == ("solar_feed_in",)
    rules = yaml.safe_load(files.rules)["rules"]
    assert {"rule": "curated solar_feed_in", "steps": [{"intent": "solar_feed_in"}, {"action": "utter_handover"}]} \
        in rules
    assert len(rules) == len(yaml.safe_load(project.rules)["rules"]) + 1
    # The shipped linear pipeline has no epochs (ADR 0056): the override leaves it as it is; DIET's
    # config (config-diet.yml) gets it.
    assert yaml.safe_load(files.config)["pipeline"] == yaml.safe_load(project.config)["pipeline"]
    diet_project = dataclasses.replace(project, config=(PROJECT / "config-diet.yml").read_text())
    diet_files = rasa_yaml.training_files(diet_project, curated, epochs=5)
    diet = next(c for c in yaml.safe_load(diet_files.config)["pipeline"] if c["name"] == "DIETClassifier")
    assert diet["epochs"] == 5
    nlu = yaml.safe_load(files.nlu)["nlu"]
    assert any(b.get("regex") == "account_number" for b in nlu)
    assert sorted(rasa_yaml.read_nlu_examples(files.nlu)) == sorted(curated)
    assert set(files.by_name()) == {"config.yml", "domain.yml", "data/nlu.yml", "data/rules.yml", "data/stories.yml"}


def test_an_intent_with_a_matching_response_is_answered_not_handed_over() -> None:
    project = shipped()
    files = rasa_yaml.training_files(project, [("hi", "greet"), ("how do I pay online", "pay_online")])
    assert files.handover_intents == ()
    assert "curated pay_online" not in files.rules  # the shipped rule answers it


# --- progress ----------------------------------------------------------------------------------------

def test_progress_follows_components_and_epochs() -> None:
    output = ("2026-11-23 03:40:01 INFO rasa.engine.training.hooks - Starting to train component "
              "'CountVectorsFeaturizer'.\n"
              "INFO rasa.engine.training.hooks - Starting to train component 'DIETClassifier'.\n"
              "\rEpochs:   0%|          | 0/60 [00:00<?, ?it/s]"
              "\rEpochs:  45%|####5     | 27/60 [00:10<00:12, 2.61it/s, t_loss=1.23, i_acc=0.98]"
              "\rEpochs: 100%|##########| 60/60 [00:22<00:00, 2.6it/s, t_loss=0.5, i_acc=1]\n"
              "INFO rasa.engine.training.hooks - Finished training component 'DIETClassifier'.\n"
              "Your Rasa model is trained and saved at 'models/curated-m1.tar.gz'.\n")
    lines, rest = split_output(output)
    assert rest == "" and len(lines) == 7
    seen = []
    progress = Progress()
    for line in lines:
        progress = advance(progress, line)
        seen.append((round(progress.fraction, 2), progress.phase))
    assert seen == [(0.05, "training CountVectorsFeaturizer"), (0.05, "training DIETClassifier"),
                    (0.1, "epoch 0/60"), (0.46, "epoch 27/60"), (0.9, "epoch 60/60"),
                    (0.9, "trained DIETClassifier"), (1.0, "saved")]


def test_progress_steps_per_component_without_epochs() -> None:
    """A pipeline without epochs (config-linear.yml) moves the bar a step per finished component."""
    names = ["WhitespaceTokenizer", "CountVectorsFeaturizer", "LinearIntentClassifier", "A", "B", "C", "D", "E", "F"]
    progress, seen = Progress(), []
    for name in names:
        progress = advance(progress, f"INFO rasa.engine.training.hooks - Starting to train component '{name}'.")
        progress = advance(progress, f"INFO rasa.engine.training.hooks - Finished training component '{name}'.")
        seen.append(round(progress.fraction, 2))
    assert seen == [0.15, 0.25, 0.35, 0.45, 0.55, 0.65, 0.75, 0.85, 0.9]  # up, never past the end of the bar
    assert advance(progress, "Your Rasa model is trained and saved at 'm.tar.gz'.").fraction == 1.0


def test_progress_follows_the_encoder_and_the_linear_fit() -> None:
    """The project's components say how far their long parts are (ADR 0064): the encoder names the phase,
    the classifier's fit moves the bar from where its component started to the end of the fit's band."""
    hooks = "INFO rasa.engine.training.hooks - "
    mine = "INFO northgrid_nlu.linear_intent - LinearIntentClassifier: "
    lines = [f"{hooks}Starting to train component 'SentenceNgramFeaturizer'.",
             f"{hooks}Finished training component 'SentenceNgramFeaturizer'.",
             "INFO northgrid_nlu.sentence_embeddings - SentenceEmbeddingFeaturizer: encoded 1000 of 2500 texts",
             f"{hooks}Starting to train component 'LinearIntentClassifier'.",
             f"{mine}cold fit of 2500 examples x 900 features (388 sparse, 512 dense), 15 intents",
             f"{mine}fit 50% (iteration 40)", f"{mine}fit 25% (iteration 41)",
             f"{mine}fit 100% (iteration 90); converged",
             f"{hooks}Finished training component 'LinearIntentClassifier'.",
             f"{hooks}Starting to train component 'RulePolicy'."]
    progress, seen = Progress(), []
    for line in lines:
        progress = advance(progress, line)
        seen.append((round(progress.fraction, 2), progress.phase))
    assert seen == [(0.05, "training SentenceNgramFeaturizer"), (0.15, "trained SentenceNgramFeaturizer"),
                    (0.15, "encoding texts 1000/2500"), (0.15, "training LinearIntentClassifier"),
                    (0.15, "training LinearIntentClassifier"),
                    (0.53, "fitting LinearIntentClassifier 50% (iteration 40)"),
                    # an estimate falls back: the bar does not
                    (0.53, "fitting LinearIntentClassifier 25% (iteration 41)"),
                    (0.9, "fitting LinearIntentClassifier 100% (iteration 90)"),
                    (0.9, "trained LinearIntentClassifier"), (0.9, "training RulePolicy")]


def test_progress_never_goes_back_and_ignores_noise() -> None:
    late = Progress(fraction=0.9, phase="epoch 60/60", epoch=60, epochs=60)
    assert advance(late, "Epochs:   3%|3         | 1/30 [00:01<00:29]").fraction == 0.9
    assert advance(late, "UserWarning: something") is late
    lines, rest = split_output("abc\rEpochs:  1")
    assert lines == ["abc"] and rest == "Epochs:  1"
