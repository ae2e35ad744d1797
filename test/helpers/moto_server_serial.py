"""moto's server, one request at a time (`npm run test:moto` starts it; test/helpers/dynamo.ts).

`moto_server` serves each request in its own thread, and moto's DynamoDB backend does not lock an
item between checking a ConditionExpression and writing: two concurrent `UpdateItem ... ADD n 1`
under `n < :max` can both pass. DynamoDB makes every single-item write atomic, so any concurrent
run is equivalent to some serial order of the requests; serving them one at a time gives moto
exactly those semantics without changing anything else it does.

Usage: python moto_server_serial.py <host> <port>
"""
import sys

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.server import MotoRequestHandler
from werkzeug.serving import run_simple

host, port = sys.argv[1], int(sys.argv[2])
run_simple(host, port, DomainDispatcherApplication(create_backend_app), threaded=False, request_handler=MotoRequestHandler)
