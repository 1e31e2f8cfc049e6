"""The bot trainer's workflow: curated examples in MongoDB, Rasa YAML, train, evaluate, activate.

Pure modules (no I/O): ``text``, ``labels``, ``csvfile``, ``rasa_yaml``, ``progress``, ``metrics``.
I/O: ``store`` (MongoDB), ``turns`` (MongoDB), ``rasa_cli`` (the Rasa CLI as a subprocess),
``activation`` (Rasa's HTTP API). ``desk`` ties them together behind ``hub.ports.TrainingDesk``.
"""
