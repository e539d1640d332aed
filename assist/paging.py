"""Pages of rows: Flask-SQLAlchemy's pagination for statements that select columns rather than whole models, and the
address of another page of the list being shown."""

from flask import request, url_for
from flask_sqlalchemy.pagination import SelectPagination

from assist.extensions import db


class RowPagination(SelectPagination):
    """A page of rows (named tuples). A list that shows a few columns needs no model object per row: building 25
    families with their areas cost twice as much as the page's SQL."""

    def _query_items(self) -> list:
        select = self._query_args["select"].limit(self.per_page).offset(self._query_offset)
        return list(self._query_args["session"].execute(select).all())


def paginate_rows(select, *, page: int, per_page: int) -> RowPagination:
    """One page of ``select``'s rows and the total (a page past the end is empty, not an error)."""
    return RowPagination(
        select=select, session=db.session(), page=page, per_page=per_page, max_per_page=None, error_out=False
    )


def page_url(page: int, endpoint: str | None = None) -> str:
    """The address of ``page`` of the list being shown: the view's own path arguments (a batch's month) and the
    query's filters (every value of a repeated one).

    A query key url_for would take as its own (``endpoint``, ``_anchor``, ``_method``, ``_external``, ``_scheme``) or
    one naming a path argument is left out: the query is whatever the visitor typed, and must not choose the link.
    """
    endpoint = endpoint or request.endpoint
    path_args = dict(request.view_args or {}) if endpoint == request.endpoint else {}
    query = {
        key: values
        for key, values in request.args.lists()
        if not key.startswith("_") and key not in ("endpoint", "page") and key not in path_args
    }
    return url_for(endpoint, **path_args, **query, page=page)
