//! Keyset conditions for lists in (time, id) order: the rows after, or before, the last row of
//! the page before, as a row-value comparison on (time, id). A plain bound on the time comes
//! with it: SQLite starts an index range only at a scalar bound, and without one every page of
//! a filtered export would walk the index from the filter's start again (86 s instead of a few
//! for a month of a million audit rows).

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
    Expr::col(at).gte(last.at).and(position(at, id).gt(key(last)))
}

/// Rows earlier than `last` in (`at`, `id`) order.
pub(crate) fn before<C: ColumnTrait>(at: C, id: C, last: TimeKey) -> Expr {
    Expr::col(at).lte(last.at).and(position(at, id).lt(key(last)))
}
