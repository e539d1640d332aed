"""The JSON API under /api/v1, described by /api/v1/openapi.json (flask-smorest / apispec)."""

import json

import flask_smorest
from webargs.flaskparser import FlaskParser


class ArgumentsParser(FlaskParser):
    """webargs' parser, except that JSON Python's decoder gives up on (nested too deep, a number of more than 4,300
    digits) is invalid JSON (400), not a 500."""

    def _raw_load_json(self, req):
        try:
            return super()._raw_load_json(req)
        except json.JSONDecodeError:
            raise  # webargs tells an empty body from a malformed one
        except (RecursionError, ValueError) as exc:
            self._handle_invalid_json_error(exc, req)


# flask-smorest binds the parser when routes are decorated, so it is set here, before any API module is imported
flask_smorest.Blueprint.ARGUMENTS_PARSER = ArgumentsParser()


def register_api(app) -> None:
    from assist.api import areas, families, main
    from assist.extensions import api

    for module in (main, areas, families):
        api.register_blueprint(module.blp, url_prefix="/api/v1")
    # issue 3, the API part: sponsors, posts and the market, agreements
    from assist.api import agreements, posts, sponsors

    for module in (sponsors, posts, agreements):
        api.register_blueprint(module.blp, url_prefix="/api/v1")
    # identification (issue 5)
    from assist.api import identification

    api.register_blueprint(identification.blp, url_prefix="/api/v1")
    # stipends and payments (issue 4)
    from assist.api import stipends

    api.register_blueprint(stipends.blp, url_prefix="/api/v1")
    # reports (issue 4)
    from assist.api import reports

    api.register_blueprint(reports.blp, url_prefix="/api/v1")
