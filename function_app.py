"""The Functions app: it registers the blueprints of handlers/ (and turns telemetry on where configured)."""

import azure.functions as func

from handlers import callback_dispatch, interview_api, ops, queue_dispatch, telemetry, timers

telemetry.configure()
app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
for blueprint in (interview_api.bp, queue_dispatch.bp, callback_dispatch.bp, timers.bp, ops.bp):
    app.register_functions(blueprint)
