"""The rules of La Malle, as plain functions over a SQLAlchemy session.

Services take the session's objects, the acting user and `now` as arguments; they never
read the request, the logged-in user or the wall clock, and never import from app.web.
"""
