"""The mobile web app's static files (HTML, CSS, ES modules), shipped as package data.

A package only so the files travel with the code wherever it runs (a checkout, Ray workers, the
wheel in the Docker image) and are found by import; `serve_app.api.web_app` serves them. No Python here.
"""
