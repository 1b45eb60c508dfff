//! Keyset conditions for lists in (time, id) order: the rows after, or before, the last row of
//! the page before, as one row-value comparison that an index on (time, id) answers directly.

use sea_orm::ColumnTrait;
use sea_orm::sea_query::{Expr, ExprTrait};

use crate::domain::page::TimeKey;

fn position<C: ColumnTrait>(at: C, id: C) -> Expr {
    Expr::tuple([Expr::col(at), Expr::col(id)])
}

fn key(key: TimeKey) -> Expr {
    Expr::tuple([Expr::value(key.at), Expr::value(key.id)])
}

/// Rows later than `last` in (`at`, `id`) order.
pub(crate) fn after<C: ColumnTrait>(at: C, id: C, last: TimeKey) -> Expr {
    position(at, id).gt(key(last))
}

/// Rows earlier than `last` in (`at`, `id`) order.
pub(crate) fn before<C: ColumnTrait>(at: C, id: C, last: TimeKey) -> Expr {
    position(at, id).lt(key(last))
}
