"""The API's try-it page at ``/docs``, served from installed packages: it works offline.

FastAPI's default page loads swagger-ui from a CDN and is blank without a network; here its
JavaScript and CSS come from the ``swagger-ui-bundle-v2`` package (swagger-ui 5, which reads
the OpenAPI 3.1 FastAPI writes), served under ``/static/swagger``. (ReDoc, which has no
packaged copy, is not served.)
"""

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

__all__ = ["SWAGGER", "add_offline_docs"]

SWAGGER = "/static/swagger"


def add_offline_docs(app: FastAPI) -> None:
    """Serve swagger-ui's assets and the ``/docs`` page (the app needs ``docs_url=None``)."""
    app.mount(SWAGGER, StaticFiles(directory=swagger_ui_path), name="swagger")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} — API",
            swagger_js_url=f"{SWAGGER}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER}/swagger-ui.css",
            swagger_favicon_url=f"{SWAGGER}/favicon-32x32.png",
        )
