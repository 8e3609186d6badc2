"""Personal-color analysis as a plain Python library.

Bytes of a selfie in; a lighting report, face regions, measured colors and a seasonal diagnosis
out. This package never imports Ray, FastAPI or SQLAlchemy, and never writes image data anywhere:
every function works on in-memory arrays.
"""
