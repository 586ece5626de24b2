"""The dashboard: a local, read-only web view of a run store, live while runs train.

``server.py`` serves it (``ganwatch dashboard``), ``report.py`` writes the same views into
one offline HTML file (``ganwatch report``); ``app.py`` routes requests, ``data.py`` shapes
the store's rows into the JSON the pages read, ``assets.py`` holds the page and its static
files, and ``static/`` the page code (plain JS and CSS, no build step).
"""
