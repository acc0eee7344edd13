"""A FunctionApp exercising every trigger the devhost hosts; the tests drive it through a real devhost."""

import json
import os
import time

import azure.functions as func
import redis
import redis.asyncio

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)

DELIVERIES_QUEUE = "deliveries"
CONCURRENCY_QUEUE = "concurrency"
SLOW_MESSAGE_SECONDS = 0.4

_redis: redis.asyncio.Redis | None = None
_sync_redis: redis.Redis | None = None


def _store() -> redis.asyncio.Redis:
    global _redis
    if _redis is None:
        _redis = redis.asyncio.Redis.from_url(os.environ["REDIS_URL"])
    return _redis


def _sync_store() -> redis.Redis:
    global _sync_redis
    if _sync_redis is None:
        _sync_redis = redis.Redis.from_url(os.environ["REDIS_URL"])
    return _sync_redis


def _json(document: object, status_code: int = 200) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(document), status_code=status_code, mimetype="application/json")


@app.route(route="hello", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
async def hello(req: func.HttpRequest) -> func.HttpResponse:
    name = req.params.get("name", "world")
    return func.HttpResponse(f"{os.environ['SAMPLE_GREETING']}, {name}{os.environ['SAMPLE_PUNCTUATION']}")


@app.route(route="echo", methods=["POST", "PUT"], auth_level=func.AuthLevel.ANONYMOUS)
def echo(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(
        req.get_body(),
        status_code=201,
        headers={
            "X-Echo-Method": req.method,
            "X-Echo-Header": req.headers.get("x-sample", ""),
            "X-Echo-Forwarded-For": req.headers.get("x-forwarded-for", ""),
        },
        mimetype=req.headers.get("content-type", "application/octet-stream"),
        charset="",
    )


@app.route(route="items/{id}/parts/{n:int}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
async def item_part(req: func.HttpRequest) -> func.HttpResponse:
    return _json({"route_params": dict(req.route_params), "url": req.url, "query": dict(req.params)})


@app.route(route="secret", methods=["GET"])
async def secret(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("function-level secret")


@app.route(route="manage/ping", methods=["GET"], auth_level=func.AuthLevel.ADMIN)
async def manage_ping(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("admin pong")


@app.route(route="boom", auth_level=func.AuthLevel.ANONYMOUS)
async def boom(req: func.HttpRequest) -> func.HttpResponse:
    raise RuntimeError("the sample function failed on purpose")


@app.queue_trigger(arg_name="msg", queue_name=DELIVERIES_QUEUE, connection="AzureWebJobsStorage")
async def record_delivery(msg: func.QueueMessage) -> None:
    body = msg.get_body().decode("utf-8")
    delivery = {"id": msg.id, "body": body, "dequeue_count": msg.dequeue_count}
    await _store().rpush(f"deliveries:{body}", json.dumps(delivery))
    if body.startswith("fail"):
        raise RuntimeError(f"message {body!r} fails on purpose")


@app.queue_trigger(arg_name="work", queue_name=CONCURRENCY_QUEUE, connection="AzureWebJobsStorage")
def slow_work(work: func.QueueMessage) -> None:
    store = _sync_store()
    store.rpush("concurrency:running", store.incr("concurrency:now"))
    time.sleep(SLOW_MESSAGE_SECONDS)
    store.decr("concurrency:now")
    store.rpush("concurrency:done", work.get_body())


@app.timer_trigger(arg_name="timer", schedule="* * * * * *")
async def every_second(timer: func.TimerRequest) -> None:
    await _store().rpush("timer:every_second", json.dumps({"past_due": timer.past_due}))


@app.timer_trigger(arg_name="timer", schedule="0 0 0 1 1 *", run_on_startup=True)
async def on_startup(timer: func.TimerRequest) -> None:
    await _store().rpush("timer:on_startup", json.dumps({"past_due": timer.past_due}))
