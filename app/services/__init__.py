"""The rules of La Malle, as plain functions over a session and a ServiceContext.

`fn(session, ctx, …)`: the context says who acts, when, and the site's settings; the caller
owns the unit of work (app/db.py), so services add, flush, lock and raise domain errors but
never commit. They never read the request, the logged-in user, the configuration or the wall
clock, and never import from app.web.
"""
