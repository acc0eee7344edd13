"""The test helpers that tests/ and bench/ share: the running stack's addresses and keys (app_stack), a
candidate's side of the HTTP API (interview_client), an app instance wired to fake providers
(provider_host), and local stand-ins for the services the app calls out to (fakes)."""
