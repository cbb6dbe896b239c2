"""``doctor``: what Gmail's and Yahoo's bulk-sender rules ask of the sender domain and setup.

:mod:`.checks` runs each check (SPF covering the relay, a DKIM key at the configured selector,
DMARC with the From domain aligned, https links, one-click unsubscribe) and says, for each
problem, exactly which TXT record to add; :mod:`.spf` evaluates SPF; :mod:`.dns` asks the DNS.
"""
