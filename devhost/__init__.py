"""A local Azure Functions host for Python v2 apps: runs a FunctionApp's HTTP, queue and timer functions."""
