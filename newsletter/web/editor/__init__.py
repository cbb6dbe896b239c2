"""Editor pages, one blueprint per area (all behind the login, see :mod:`newsletter.web.auth`)."""
