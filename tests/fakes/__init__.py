"""In-process stand-ins for the services the app calls out to."""
