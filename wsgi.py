"""WSGI entry point: ``gunicorn wsgi:app``. Never starts the scheduler (that is ``assist scheduler``)."""

from assist import create_app

app = create_app()
