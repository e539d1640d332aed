"""Pages of rows: Flask-SQLAlchemy's pagination for statements that select columns rather than whole models."""

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
