"""The baseline of bench/respond.py: a bare Flask app that answers "Hello"."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "Hello"
