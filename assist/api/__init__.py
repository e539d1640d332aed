"""The JSON API under /api/v1, described by /api/v1/openapi.json (flask-smorest / apispec)."""


def register_api(app) -> None:
    from assist.api import areas, families, main
    from assist.extensions import api

    for module in (main, areas, families):
        api.register_blueprint(module.blp, url_prefix="/api/v1")
